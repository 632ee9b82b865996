package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
)

// TestKioskThermometerReplug runs the real kiosk program with its
// thermometer behind a stable name (as udev's /dev/serial/by-id gives),
// pulls the module out and plugs another in: entries go from measured to
// re-measure and back, and the screen's device state follows, with no
// restart.
func TestKioskThermometerReplug(t *testing.T) {
	dir := t.TempDir()
	stable := filepath.Join(dir, "usb-thermometer")
	first, err := sim.NewThermometer(sim.ThermometerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Close() })
	if err := os.Symlink(first.Path(), stable); err != nil {
		t.Fatal(err)
	}
	sc, err := sim.NewScanner(sim.ScannerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.Close() })
	screen := testkit.FreeAddr(t)
	cfgPath, dataDir := filepath.Join(dir, "kiosk.toml"), filepath.Join(dir, "data")
	cfg := fmt.Sprintf(`data_dir = %q
[mqtt]
broker = "tcp://127.0.0.1:1"
[screen]
listen = %q
[thermometer]
port = %q
simulate = false
[scanner]
port = %q
simulate = false
[rules]
# Measure-only: these checks are about the thermometer, not passes.
require_pass = false
`, dataDir, screen, stable, sc.Path())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, "kiosk", "kiosk ready", "run", "--config", cfgPath)

	entries := func() []protocol.Entry {
		j, err := journal.OpenReadOnly(filepath.Join(dataDir, "journal.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		es, err := j.Unsent(context.Background(), 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	check := func(code string, n int) protocol.Entry {
		t.Helper()
		if err := sc.Send(code); err != nil {
			t.Fatal(err)
		}
		var es []protocol.Entry
		testkit.EventuallyState(t, 10*time.Second, "entry "+code, func() (bool, string) {
			es = entries()
			return len(es) == n, fmt.Sprintf("%d entries", len(es))
		})
		return es[n-1]
	}
	thermState := func() (bool, string) {
		resp, err := http.Get("http://" + screen + "/api/state")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var st struct {
			Devices []struct{ Name, State string }
		}
		json.NewDecoder(resp.Body).Decode(&st)
		for _, d := range st.Devices {
			if d.Name == "thermometer" {
				return d.State == "connected", d.State
			}
		}
		return false, "no thermometer state"
	}

	if e := check("PASS-1", 1); e.Decision != protocol.DecisionAllow || e.Temperature == nil {
		t.Fatalf("first entry = %+v, want allow with a temperature", e)
	}
	first.Close() // pulled out
	if e := check("PASS-2", 2); e.Decision != protocol.DecisionRemeasure || !strings.Contains(strings.Join(e.Reasons, ","), "no_reading") {
		t.Fatalf("entry with the thermometer out = %+v, want remeasure, no_reading", e)
	}

	second, err := sim.NewThermometer(sim.ThermometerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close() })
	second.SetTemperature(37.6, 21)
	os.Remove(stable)
	if err := os.Symlink(second.Path(), stable); err != nil {
		t.Fatal(err)
	}
	testkit.EventuallyState(t, 10*time.Second, "the screen to show the thermometer connected", thermState)
	// A first fever reading is held for a second reading, with its value.
	if e := check("PASS-3", 3); e.Decision != protocol.DecisionRemeasure || e.Temperature == nil ||
		e.Temperature.ScreenedC != 37.6 || !slices.Contains(e.Reasons, "fever_hold") {
		t.Fatalf("entry after replug = %+v, want remeasure with fever_hold at 37.6", e)
	}
}
