package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatepost/gatepost/hardware/sim"
)

// simDevices starts a simulated thermometer and scanner on real
// pseudo-terminals for the test's life. The test holds them, so they
// outlive kiosk restarts as plugged-in devices do.
func simDevices(t *testing.T, opts sim.ThermometerOptions) (*sim.Thermometer, *sim.Scanner) {
	t.Helper()
	therm, err := sim.NewThermometer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { therm.Close() })
	scan, err := sim.NewScanner(sim.ScannerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { scan.Close() })
	return therm, scan
}

// kioskConfig writes a kiosk.toml for kiosk gate-1 of site-1 reading the
// given devices, with a data folder beside it, and returns both paths.
// mqtt holds more [mqtt] keys; tail is TOML appended after the [scanner]
// keys: more of them first, then other sections.
func kioskConfig(t *testing.T, broker string, therm *sim.Thermometer, scan *sim.Scanner, mqtt, tail string) (cfgPath, dataDir string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath, dataDir = filepath.Join(dir, "kiosk.toml"), filepath.Join(dir, "data")
	cfg := fmt.Sprintf(`kiosk = "gate-1"
site = "site-1"
data_dir = %q
[mqtt]
broker = %q
%s
[screen]
listen = "127.0.0.1:0"
[thermometer]
port = %q
simulate = false
[scanner]
port = %q
simulate = false
%s`, dataDir, broker, mqtt, therm.Path(), scan.Path(), tail)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfgPath, dataDir
}
