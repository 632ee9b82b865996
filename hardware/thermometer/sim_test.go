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

// These tests drive the real stack: OpenGYMCU90614 → serialport →
// go.bug.st/serial → a pseudo-terminal → the simulated module.

func newSim(t *testing.T) *sim.Thermometer {
	t.Helper()
	dev, err := sim.NewThermometer(sim.ThermometerOptions{SplitPause: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("sim.NewThermometer: %v", err)
	}
	t.Cleanup(func() { dev.Close() })
	return dev
}

func openSim(t *testing.T, dev *sim.Thermometer, opts thermometer.GYOptions) *thermometer.GYMCU90614 {
	t.Helper()
	th, err := thermometer.OpenGYMCU90614(dev.Path(), opts)
	if err != nil {
		t.Fatalf("OpenGYMCU90614(%s): %v", dev.Path(), err)
	}
	t.Cleanup(func() { th.Close() })
	return th
}

func read(t *testing.T, th *thermometer.GYMCU90614) (thermometer.Reading, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return th.Read(ctx)
}

func wantReading(t *testing.T, th *thermometer.GYMCU90614, object, ambient float64) {
	t.Helper()
	r, err := read(t, th)
	if err != nil {
		t.Fatalf("Read() error = %v", err)
	}
	if r.Object != object || r.Ambient != ambient || r.HasBody || r.HasDistance || r.At.IsZero() {
		t.Fatalf("Read() = %+v, want object %.2f, ambient %.2f, no body or distance, a time", r, object, ambient)
	}
}

func TestSimRoundTrip(t *testing.T) {
	t.Parallel()
	dev := newSim(t)
	th := openSim(t, dev, thermometer.GYOptions{})
	wantReading(t, th, 36.50, 25.00)
	dev.SetTemperature(38.25, -3.5)
	wantReading(t, th, 38.25, -3.5)
	if s := th.Stats(); s != (thermometer.Stats{Frames: 2}) {
		t.Errorf("Stats() = %+v, want 2 frames and nothing else", s)
	}
}

func TestSimCorruptFrameIsRejected(t *testing.T) {
	t.Parallel()
	dev := newSim(t)
	th := openSim(t, dev, thermometer.GYOptions{})
	dev.CorruptNext(1)
	// The damaged answer is dropped and counted; the driver asks again
	// and returns the good frame that follows.
	wantReading(t, th, 36.50, 25.00)
	if s := th.Stats(); s.BadChecksum != 1 || s.Frames != 1 {
		t.Errorf("Stats() = %+v, want 1 bad checksum and 1 frame", s)
	}
}

func TestSimOnlyCorruptFrames(t *testing.T) {
	t.Parallel()
	dev := newSim(t)
	th := openSim(t, dev, thermometer.GYOptions{ReplyTimeout: 300 * time.Millisecond})
	dev.CorruptNext(1000)
	r, err := read(t, th)
	if !errors.Is(err, thermometer.ErrChecksum) {
		t.Fatalf("Read() = %+v, %v; want ErrChecksum", r, err)
	}
	// The first answer and three more after asking again.
	if s := th.Stats(); s != (thermometer.Stats{BadChecksum: 4}) {
		t.Errorf("Stats() = %+v, want 4 bad checksums and nothing else", s)
	}
}

func TestSimSplitFrame(t *testing.T) {
	t.Parallel()
	dev := newSim(t)
	th := openSim(t, dev, thermometer.GYOptions{})
	dev.SetSplit(true)
	wantReading(t, th, 36.50, 25.00)
}

func TestSimSilent(t *testing.T) {
	t.Parallel()
	dev := newSim(t)
	th := openSim(t, dev, thermometer.GYOptions{ReplyTimeout: 200 * time.Millisecond})
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
		th, err := thermometer.OpenGYMCU90614(dev.Path(), thermometer.GYOptions{})
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
	th := openSim(t, dev, thermometer.GYOptions{})
	wantReading(t, th, 36.50, 25.00)
	dev.Close()
	if r, err := read(t, th); !errors.Is(err, serialport.ErrGone) {
		t.Fatalf("Read() after the device went away = %+v, %v; want ErrGone", r, err)
	}
}

func TestOpenMissingPort(t *testing.T) {
	t.Parallel()
	_, err := thermometer.OpenGYMCU90614("/dev/gatepost-no-such-port", thermometer.GYOptions{})
	if !errors.Is(err, serialport.ErrNotFound) {
		t.Fatalf("OpenGYMCU90614(missing) = %v, want ErrNotFound", err)
	}
}
