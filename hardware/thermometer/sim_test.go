package thermometer_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/hardware/thermometer"
)

// These tests drive the real stack for driver = "gy-mcu90614", the
// kiosk's default: Open → serialport → go.bug.st/serial → a
// pseudo-terminal → the simulated module.

func newSim(t *testing.T) *sim.Thermometer {
	t.Helper()
	dev, err := sim.NewThermometer(sim.ThermometerOptions{SplitPause: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("sim.NewThermometer: %v", err)
	}
	t.Cleanup(func() { dev.Close() })
	return dev
}

// gySettings are the settings driver = "gy-mcu90614" gets, asking again
// up to three times after a damaged frame.
func gySettings(q thermometer.QueryOptions) thermometer.Settings {
	q.Retries = 3
	return thermometer.Settings{Driver: "gy-mcu90614", Query: q}
}

func openSim(t *testing.T, dev *sim.Thermometer, q thermometer.QueryOptions) thermometer.Thermometer {
	t.Helper()
	th, err := thermometer.Open(dev.Path(), gySettings(q))
	if err != nil {
		t.Fatalf("Open(%s, gy-mcu90614): %v", dev.Path(), err)
	}
	t.Cleanup(func() { th.Close() })
	return th
}

func read(t *testing.T, th thermometer.Thermometer) (thermometer.Reading, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return th.Read(ctx)
}

func wantReading(t *testing.T, th thermometer.Thermometer, object, ambient float64) {
	t.Helper()
	r, err := read(t, th)
	if err != nil {
		t.Fatalf("Read() error = %v", err)
	}
	if r.Object != object || r.Ambient != ambient || r.HasBody || r.HasDistance || r.At.IsZero() {
		t.Fatalf("Read() = %+v, want object %.2f, ambient %.2f, no body or distance, a time", r, object, ambient)
	}
}

func stats(th thermometer.Thermometer) thermometer.Stats {
	s, _ := thermometer.StatsOf(th)
	return s
}

func TestSimRoundTrip(t *testing.T) {
	t.Parallel()
	dev := newSim(t)
	th := openSim(t, dev, thermometer.QueryOptions{})
	wantReading(t, th, 36.50, 25.00)
	dev.SetTemperature(38.25, -3.5)
	wantReading(t, th, 38.25, -3.5)
	if s := stats(th); s != (thermometer.Stats{Frames: 2}) {
		t.Errorf("Stats() = %+v, want 2 frames and nothing else", s)
	}
}

func TestSimCorruptFrameIsRejected(t *testing.T) {
	t.Parallel()
	dev := newSim(t)
	th := openSim(t, dev, thermometer.QueryOptions{})
	dev.CorruptNext(1)
	// The damaged answer is dropped and counted; the driver asks again
	// and returns the good frame that follows.
	wantReading(t, th, 36.50, 25.00)
	if s := stats(th); s.BadChecksum != 1 || s.Frames != 1 {
		t.Errorf("Stats() = %+v, want 1 bad checksum and 1 frame", s)
	}
}

func TestSimOnlyCorruptFrames(t *testing.T) {
	t.Parallel()
	dev := newSim(t)
	th := openSim(t, dev, thermometer.QueryOptions{ReplyTimeout: 300 * time.Millisecond})
	dev.CorruptNext(1000)
	r, err := read(t, th)
	if !errors.Is(err, thermometer.ErrChecksum) {
		t.Fatalf("Read() = %+v, %v; want ErrChecksum", r, err)
	}
	// The first answer and three more after asking again.
	if s := stats(th); s != (thermometer.Stats{BadChecksum: 4}) {
		t.Errorf("Stats() = %+v, want 4 bad checksums and nothing else", s)
	}
}

func TestSimSplitFrame(t *testing.T) {
	t.Parallel()
	dev := newSim(t)
	th := openSim(t, dev, thermometer.QueryOptions{})
	dev.SetSplit(true)
	wantReading(t, th, 36.50, 25.00)
}

func TestSimSilent(t *testing.T) {
	t.Parallel()
	dev := newSim(t)
	th := openSim(t, dev, thermometer.QueryOptions{ReplyTimeout: 200 * time.Millisecond})
	dev.SetSilent(true)
	if r, err := read(t, th); !errors.Is(err, thermometer.ErrNoReply) {
		t.Fatalf("Read() = %+v, %v; want ErrNoReply", r, err)
	}
	dev.SetSilent(false)
	wantReading(t, th, 36.50, 25.00)
}

func TestSimReopen(t *testing.T) {
	t.Parallel()
	dev := newSim(t)
	for i := range 3 {
		th, err := thermometer.Open(dev.Path(), gySettings(thermometer.QueryOptions{}))
		if err != nil {
			t.Fatalf("open #%d of %s: %v", i+1, dev.Path(), err)
		}
		wantReading(t, th, 36.50, 25.00)
		if err := th.Close(); err != nil {
			t.Fatalf("Close() #%d = %v", i+1, err)
		}
	}
}

func TestSimDeviceGone(t *testing.T) {
	t.Parallel()
	dev := newSim(t)
	th := openSim(t, dev, thermometer.QueryOptions{})
	wantReading(t, th, 36.50, 25.00)
	dev.Close()
	if r, err := read(t, th); !errors.Is(err, serialport.ErrGone) {
		t.Fatalf("Read() after the device went away = %+v, %v; want ErrGone", r, err)
	}
}

func TestOpenMissingPort(t *testing.T) {
	t.Parallel()
	_, err := thermometer.Open("/dev/gatepost-no-such-port", gySettings(thermometer.QueryOptions{}))
	if !errors.Is(err, serialport.ErrNotFound) {
		t.Fatalf("Open(missing) = %v, want ErrNotFound", err)
	}
}
