package thermometer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/hardware/thermometer"
)

// Each protocol end to end: thermometer.Open (the factory the kiosk uses)
// → serialport → a pseudo-terminal → the simulated module.
var protocolCases = []struct {
	protocol string
	settings thermometer.Settings
}{
	{sim.GYMCU90614, thermometer.Settings{Driver: "gy-mcu90614"}},
	{sim.GYMCU90614, thermometer.Settings{Driver: "frame", Profile: thermometer.Profiles()["gy-mcu90614"]}},
	{sim.CJMCU90614, thermometer.Settings{Driver: "cjmcu-90614"}},
	{sim.A4Register, thermometer.Settings{Driver: "a4-register"}},
	{sim.ModbusRTU, thermometer.Settings{Driver: "modbus", Modbus: thermometer.ModbusOptions{
		Address: 0x40, Register: 0x1006, AmbientRegister: 0x1007, HasAmbient: true,
		Value: thermometer.ModbusValue{Signed: true, Scale: 0.01}}}},
	{sim.LineASCII, thermometer.Settings{Driver: "line", Pattern: sim.LinePattern}},
}

func startSim(t *testing.T, protocol string) *sim.Thermometer {
	t.Helper()
	dev, err := sim.NewThermometer(sim.ThermometerOptions{Protocol: protocol, Interval: 20 * time.Millisecond, SplitPause: 30 * time.Millisecond})
	if err != nil {
		t.Fatalf("sim.NewThermometer(%s): %v", protocol, err)
	}
	t.Cleanup(func() { dev.Close() })
	return dev
}

func readWithin(t *testing.T, th thermometer.Thermometer) (thermometer.Reading, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return th.Read(ctx)
}

func TestProtocolsOnPTY(t *testing.T) {
	t.Parallel()
	for _, pc := range protocolCases {
		t.Run(pc.settings.Driver, func(t *testing.T) {
			t.Parallel()
			dev := startSim(t, pc.protocol)
			s := pc.settings
			s.Query = thermometer.QueryOptions{ReplyTimeout: 300 * time.Millisecond, Retries: 2}
			th, err := thermometer.Open(dev.Path(), s)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer th.Close()

			want := func(what string, object, ambient float64) {
				t.Helper()
				r, err := readWithin(t, th)
				if err != nil {
					t.Fatalf("%s: Read() error = %v", what, err)
				}
				if r.Object != object || r.Ambient != ambient || r.At.IsZero() {
					t.Fatalf("%s: Read() = %+v, want %.2f/%.2f", what, r, object, ambient)
				}
			}
			want("default", 36.5, 25)

			dev.SetTemperature(38.4, 24) // a fever
			want("fever", 38.4, 24)

			dev.SetTemperature(31.2, -5.5) // implausible, but the driver reports what it got
			want("out of range", 31.2, -5.5)
			r, _ := readWithin(t, th)
			if err := (thermometer.Limits{}).Check(r, 0); !errors.Is(err, thermometer.ErrRemeasure) {
				t.Errorf("Limits.Check(%+v) = %v, want a re-measure", r, err)
			}

			dev.SetTemperature(36.7, 25)
			dev.CorruptNext(1)
			want("after one corrupt frame", 36.7, 25)

			dev.SetSplit(true)
			want("split frames", 36.7, 25)
			dev.SetSplit(false)

			dev.SetSilent(true)
			if _, err := readWithin(t, th); !errors.Is(err, thermometer.ErrNoReply) {
				t.Errorf("silent: Read() error = %v, want ErrNoReply", err)
			}
			dev.SetSilent(false)
			want("after silence", 36.7, 25)

			dev.Close() // unplug
			if _, err := readWithin(t, th); !errors.Is(err, serialport.ErrGone) {
				t.Errorf("unplugged: Read() error = %v, want ErrGone", err)
			}
		})
	}
}

func TestProtocolsCorruptOnlyFails(t *testing.T) {
	t.Parallel()
	dev := startSim(t, sim.CJMCU90614)
	th, err := thermometer.Open(dev.Path(), thermometer.Settings{Driver: "cjmcu-90614",
		Query: thermometer.QueryOptions{ReplyTimeout: 200 * time.Millisecond, Retries: 2}})
	if err != nil {
		t.Fatal(err)
	}
	defer th.Close()
	dev.CorruptNext(100)
	if _, err := readWithin(t, th); !errors.Is(err, thermometer.ErrChecksum) {
		t.Errorf("Read() error = %v, want ErrChecksum", err)
	}
}

func TestModbusExceptionFromSim(t *testing.T) {
	t.Parallel()
	dev := startSim(t, sim.ModbusRTU)
	th, err := thermometer.Open(dev.Path(), thermometer.Settings{Driver: "modbus",
		Modbus: thermometer.ModbusOptions{Address: 0x40, Register: 0x2000}})
	if err != nil {
		t.Fatal(err)
	}
	defer th.Close()
	_, err = readWithin(t, th)
	var ex *thermometer.ModbusException
	if !errors.As(err, &ex) || ex.Name() != "illegal data address" {
		t.Fatalf("reading an unknown register: error = %v, want illegal data address", err)
	}
	th.Close()

	dev.SetException(6)
	th, err = thermometer.Open(dev.Path(), thermometer.Settings{Driver: "modbus", Modbus: thermometer.ModbusOptions{Address: 0x40, Register: 0x1006}})
	if err != nil {
		t.Fatal(err)
	}
	defer th.Close()
	if _, err = readWithin(t, th); !errors.As(err, &ex) || ex.Code != 6 {
		t.Fatalf("busy module: error = %v, want exception 06 (server device busy)", err)
	}
}

func TestLineBodyAndDistanceFromSim(t *testing.T) {
	t.Parallel()
	dev := startSim(t, sim.LineASCII)
	body, dist := 36.9, 18.0
	dev.SetBody(&body)
	dev.SetDistance(&dist)
	th, err := thermometer.Open(dev.Path(), thermometer.Settings{Driver: "line", Pattern: sim.LinePattern})
	if err != nil {
		t.Fatal(err)
	}
	defer th.Close()
	r, err := readWithin(t, th)
	if err != nil || !r.HasBody || r.Body != 36.9 || !r.HasDistance || r.Distance != 18 {
		t.Fatalf("Read() = %+v, %v; want body 36.9 and distance 18", r, err)
	}
}

// TestUnplugMidFrameAndReplug: each protocol's module vanishes halfway
// through a frame; the driver reports the device gone (not a bad frame),
// and a module plugged in under the same stable name is read after
// reopening.
func TestUnplugMidFrameAndReplug(t *testing.T) {
	t.Parallel()
	for _, pc := range protocolCases {
		t.Run(pc.settings.Driver, func(t *testing.T) {
			t.Parallel()
			stable := filepath.Join(t.TempDir(), "ttyUSB-thermometer")
			first := startSim(t, pc.protocol)
			if err := os.Symlink(first.Path(), stable); err != nil {
				t.Fatal(err)
			}
			th, err := thermometer.Open(stable, pc.settings)
			if err != nil {
				t.Fatal(err)
			}
			defer th.Close()
			first.UnplugMidFrame()
			if _, err := readWithin(t, th); !errors.Is(err, serialport.ErrGone) {
				t.Fatalf("Read() as the module vanished mid-frame = %v, want ErrGone", err)
			}
			th.Close()

			second := startSim(t, pc.protocol)
			second.SetTemperature(37.1, 22)
			os.Remove(stable)
			if err := os.Symlink(second.Path(), stable); err != nil {
				t.Fatal(err)
			}
			th, err = thermometer.Open(stable, pc.settings)
			if err != nil {
				t.Fatalf("reopen after replug: %v", err)
			}
			defer th.Close()
			if r, err := readWithin(t, th); err != nil || r.Object != 37.1 {
				t.Fatalf("Read() after replug = %+v, %v; want 37.10", r, err)
			}
		})
	}
}
