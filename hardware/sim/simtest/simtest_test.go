package simtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gatepost/gatepost/hardware/sim"
	"go.uber.org/goleak"
)

// The simulators' goroutines end with the test that started them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A stable name follows the simulator last plugged in under it.
func TestPlugFollowsTheLastSimulator(t *testing.T) {
	stable := filepath.Join(t.TempDir(), "usb-device")
	for _, path := range []string{Thermometer(t, sim.ThermometerOptions{}).Path(), Scanner(t, sim.ScannerOptions{}).Path()} {
		Plug(t, stable, path)
		if got, err := os.Readlink(stable); err != nil || got != path {
			t.Fatalf("Readlink(%s) = %q, %v; want %s", stable, got, err, path)
		}
		if _, err := os.Stat(stable); err != nil {
			t.Fatalf("the simulator's terminal behind %s: %v", stable, err)
		}
	}
}
