package daemon

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/device"
	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/hardware/sim/simtest"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/gate"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/kiosk/screen"
)

// simGate gives a simulated thermometer speaking proto and a simulated
// scanner, on pseudo-terminals, and a kiosk configuration using them.
func simGate(t *testing.T, proto string) (*sim.Thermometer, *sim.Scanner, config.Config) {
	t.Helper()
	th := simtest.Thermometer(t, sim.ThermometerOptions{Protocol: proto})
	sc := simtest.Scanner(t, sim.ScannerOptions{})
	return th, sc, testConfig(t, th.Path(), sc.Path())
}

func testConfig(t *testing.T, thermPort, scanPort string) config.Config {
	cfg := config.Demo()
	cfg.DataDir = t.TempDir()
	cfg.MQTT.Broker = "tcp://127.0.0.1:1" // no hub: the gate works offline
	cfg.Screen.Listen = "127.0.0.1:0"
	cfg.Thermometer.Simulate, cfg.Thermometer.Port = false, thermPort
	cfg.Scanner.Simulate, cfg.Scanner.Port = false, scanPort
	cfg.Rules.RequirePass = false // measure-only: these tests are about devices
	return cfg
}

func deviceState(d *Daemon, name string) string {
	for _, dev := range d.screen.State().Devices {
		if dev.Name == name {
			return dev.State
		}
	}
	return ""
}

// scan sends a code and waits until the screen shows its entry.
func scan(t *testing.T, d *Daemon, s *sim.Scanner, code string) *screen.Shown {
	t.Helper()
	before := uint64(0)
	if last := d.screen.State().Last; last != nil {
		before = last.Seq
	}
	if err := s.Send(code); err != nil {
		t.Fatal(err)
	}
	var shown *screen.Shown
	testkit.Eventually(t, "the entry for "+code, func() bool {
		shown = d.screen.State().Last
		return shown != nil && shown.Seq > before
	})
	return shown
}

// TestThermometerReplugWithoutRestart unplugs the thermometer of a
// running kiosk and plugs another in under the same stable name: the
// kiosk shows it gone, then back, and reads it, with no restart.
func TestThermometerReplugWithoutRestart(t *testing.T) {
	dir := t.TempDir()
	stable := filepath.Join(dir, "usb-thermometer")
	first := simtest.Thermometer(t, sim.ThermometerOptions{Protocol: sim.GYMCU90614})
	simtest.Plug(t, stable, first.Path())
	sc := simtest.Scanner(t, sim.ScannerOptions{})

	d := startDaemon(t, testConfig(t, stable, sc.Path()))
	if st := deviceState(d, "thermometer"); st != device.StateConnected {
		t.Fatalf("thermometer state at start = %q, want connected", st)
	}
	if got := scan(t, d, sc, "A-1"); got.Decision != "allow" || got.TemperatureC == nil {
		t.Fatalf("first check = %+v, want allow with a temperature", got)
	}

	first.Close() // unplugged
	if got := scan(t, d, sc, "A-2"); got.Decision != "remeasure" {
		t.Fatalf("check with the thermometer unplugged = %+v, want remeasure", got)
	}
	if st := deviceState(d, "thermometer"); st == device.StateConnected {
		t.Fatalf("thermometer state after unplug = %q, want not connected", st)
	}
	if p := d.screen.State().Problem; p != gate.Sentence(gate.KeyThermometerGone) {
		t.Errorf("screen problem = %q, want the thermometer sentence", p)
	}

	second := simtest.Thermometer(t, sim.ThermometerOptions{Protocol: sim.GYMCU90614})
	second.SetTemperature(36.9, 24)
	simtest.Plug(t, stable, second.Path()) // plugged in again
	plugged := time.Now()
	testkit.Eventually(t, "the thermometer to show connected", func() bool { return deviceState(d, "thermometer") == device.StateConnected })
	t.Logf("replugged thermometer connected after %v", time.Since(plugged).Round(time.Millisecond))
	got := scan(t, d, sc, "A-3")
	if got.Decision != "allow" || got.TemperatureC == nil || *got.TemperatureC != 36.9 {
		t.Fatalf("check after replug = %+v, want allow at 36.9", got)
	}
}

// TestImplausibleReadingIsRemeasure: a reading outside the body range is
// never shown or journaled as a temperature; the reason is recorded.
func TestImplausibleReadingIsRemeasure(t *testing.T) {
	th, sc, cfg := simGate(t, sim.CJMCU90614)
	cfg.Thermometer.Driver = "cjmcu-90614"
	d := startDaemon(t, cfg)
	if d.screen.State().Simulated {
		t.Error("real devices (the simulators here play hardware on terminals), and the screen says simulated")
	}

	th.SetTemperature(29.5, 10) // a cold sleeve, not a forehead
	got := scan(t, d, sc, "B-1")
	if got.Decision != "remeasure" || got.TemperatureC != nil || !slices.Contains(got.Reasons, "below_range") {
		t.Fatalf("check at 29.5 °C = %+v, want remeasure with below_range and no temperature", got)
	}
	if es, err := d.journal.Unsent(t.Context(), 0, 1); err != nil || len(es) != 1 || es[0].Simulated {
		t.Errorf("an entry from real devices: %+v, %v; want it not marked simulated", es, err)
	}
	th.SetTemperature(37.8, 20)
	// A first fever reading is held for a second reading (the rules'
	// re-measure step), with the temperature recorded.
	if got := scan(t, d, sc, "B-2"); got.Decision != "remeasure" || got.TemperatureC == nil ||
		*got.TemperatureC != 37.8 || !slices.Contains(got.Reasons, "fever_hold") {
		t.Fatalf("check at 37.8 °C = %+v, want remeasure with fever_hold at 37.8", got)
	}
}

// TestCalibrationOffsetApplied: the journal's latest calibration offset
// is added to every reading and recorded with it.
func TestCalibrationOffsetApplied(t *testing.T) {
	th, sc, cfg := simGate(t, sim.GYMCU90614)
	j, err := journal.Open(filepath.Join(cfg.DataDir, JournalFile), cfg.Kiosk)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.RecordCalibration(context.Background(), journal.Calibration{Time: time.Now(), OffsetC: 0.4, ReferenceC: 36.8, ReadingsC: []float64{36.4}, By: "test"}); err != nil {
		t.Fatal(err)
	}
	j.Close()

	d := startDaemon(t, cfg)
	th.SetTemperature(36.5, 25)
	got := scan(t, d, sc, "C-1")
	if got.TemperatureC == nil || *got.TemperatureC != 36.9 {
		t.Fatalf("check = %+v, want 36.5 + 0.4 = 36.9", got)
	}
	entries, err := d.journal.Unsent(context.Background(), 0, 10)
	if err != nil || len(entries) != 1 || entries[0].Temperature.OffsetC != 0.4 || entries[0].Temperature.ObjectC != 36.5 {
		t.Fatalf("journaled = %+v, %v; want object 36.5 with offset 0.4", entries, err)
	}
}

// TestSimulatedDrivers: with simulate = true the kiosk runs the
// simulator of its configured driver, and reads it.
func TestSimulatedDrivers(t *testing.T) {
	for _, driver := range []string{"gy-mcu90614", "cjmcu-90614", "a4-register", "modbus", "line"} {
		t.Run(driver, func(t *testing.T) {
			cfg := config.Demo()
			cfg.DataDir = t.TempDir()
			cfg.MQTT.Broker = "tcp://127.0.0.1:1"
			cfg.Screen.Listen = "127.0.0.1:0"
			cfg.Scanner.SimulateEvery = config.Duration(20 * time.Millisecond)
			cfg.Thermometer.Driver = driver
			if driver == "line" {
				cfg.Thermometer.Pattern = sim.LinePattern
			}
			d := startDaemon(t, cfg)
			testkit.Eventually(t, "a check with a temperature", func() bool {
				last := d.screen.State().Last
				return last != nil && last.TemperatureC != nil
			})
			if !d.screen.State().Simulated {
				t.Error("simulated devices, and the screen does not say so")
			}
			if es, err := d.journal.Unsent(t.Context(), 0, 1); err != nil || len(es) != 1 || !es[0].Simulated {
				t.Errorf("the journal's first entry from simulated devices: %+v, %v; want it marked simulated", es, err)
			}
		})
	}
	cfg := config.Demo()
	cfg.Thermometer.Driver = "frame"
	if _, err := openDevices(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), clock.Real(), nil); err == nil {
		t.Error("simulating a custom frame profile: no error, want one")
	}
}

// TestScannerReplugWithoutRestart: the same for the scanner, which is
// reopened by the check loop with backoff.
func TestScannerReplugWithoutRestart(t *testing.T) {
	th := simtest.Thermometer(t, sim.ThermometerOptions{Protocol: sim.GYMCU90614})
	stable := filepath.Join(t.TempDir(), "usb-scanner")
	first := simtest.Scanner(t, sim.ScannerOptions{})
	simtest.Plug(t, stable, first.Path())
	d := startDaemon(t, testConfig(t, th.Path(), stable))
	scan(t, d, first, "S-1")

	first.Close()
	testkit.Eventually(t, "the scanner to show disconnected", func() bool { return deviceState(d, "scanner") == device.StateDisconnected })
	if p := d.screen.State().Problem; p != gate.Sentence(gate.KeyScannerGone) {
		t.Errorf("screen problem = %q, want the scanner sentence", p)
	}

	second := simtest.Scanner(t, sim.ScannerOptions{})
	simtest.Plug(t, stable, second.Path())
	testkit.Eventually(t, "the scanner to show connected", func() bool { return deviceState(d, "scanner") == device.StateConnected })
	if got := scan(t, d, second, "S-2"); got.Decision != "allow" {
		t.Fatalf("check after the scanner's replug = %+v, want allow", got)
	}
	if p := d.screen.State().Problem; p != "" {
		t.Errorf("screen problem after replug = %q, want none", p)
	}
}

// TestDuplicateScanIsOneEntry: a pass read twice within the window is
// one entry.
func TestDuplicateScanIsOneEntry(t *testing.T) {
	_, sc, cfg := simGate(t, sim.GYMCU90614)
	cfg.Scanner.DuplicateWindow = config.Duration(time.Minute)
	d := startDaemon(t, cfg)
	first := scan(t, d, sc, "D-1")
	sc.Send("D-1")
	second := scan(t, d, sc, "D-2")
	if second.Seq != first.Seq+1 {
		t.Fatalf("entries %d then %d: the repeated D-1 made an entry", first.Seq, second.Seq)
	}
}
