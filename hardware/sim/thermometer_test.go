package sim_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/sim"
)

var (
	query      = []byte{0xA5, 0x15, 0xBA}
	continuous = []byte{0xA5, 0x45, 0xEA}
	vector     = []byte{0x5A, 0x5A, 0x45, 0x04, 0x0E, 0x42, 0x09, 0xC4, 0x1A} // 36.50 / 25.00
)

func newThermometer(t *testing.T, opts sim.ThermometerOptions) *sim.Thermometer {
	t.Helper()
	dev, err := sim.NewThermometer(opts)
	if err != nil {
		t.Fatalf("NewThermometer: %v", err)
	}
	t.Cleanup(func() {
		if err := dev.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return dev
}

func TestThermometerAnswersQuery(t *testing.T) {
	t.Parallel()
	dev := newThermometer(t, sim.ThermometerOptions{})
	p := openPort(t, dev.Path())
	// Noise before the command must not confuse the module.
	if _, err := p.Write(append([]byte{0x00, 0xA5, 0x15}, query...)); err != nil {
		t.Fatal(err)
	}
	if got, _ := readN(testContext(t), t, p, 9); !bytes.Equal(got, vector) {
		t.Errorf("answer to the query = % X, want % X", got, vector)
	}
}

func TestThermometerTemperatures(t *testing.T) {
	t.Parallel()
	object := 30.0
	dev := newThermometer(t, sim.ThermometerOptions{
		Object:  func() float64 { object += 1.5; return object },
		Ambient: func() float64 { return -5 },
	})
	p := openPort(t, dev.Path())
	ctx := testContext(t)
	for _, want := range [][]byte{
		{0x5A, 0x5A, 0x45, 0x04, 0x0C, 0x4E, 0xFE, 0x0C, 0x61}, // 31.50 / -5.00
		{0x5A, 0x5A, 0x45, 0x04, 0x0C, 0xE4, 0xFE, 0x0C, 0xF7}, // 33.00 / -5.00
	} {
		p.Write(query)
		if got, _ := readN(ctx, t, p, 9); !bytes.Equal(got, want) {
			t.Errorf("frame = % X, want % X", got, want)
		}
	}
	dev.SetTemperature(36.5, 25)
	p.Write(query)
	if got, _ := readN(ctx, t, p, 9); !bytes.Equal(got, vector) {
		t.Errorf("after SetTemperature(36.5, 25): frame = % X, want % X", got, vector)
	}
}

func TestThermometerContinuous(t *testing.T) {
	t.Parallel()
	dev := newThermometer(t, sim.ThermometerOptions{Interval: 5 * time.Millisecond})
	p := openPort(t, dev.Path())
	p.Write(continuous)
	got, _ := readN(testContext(t), t, p, 3*9)
	if want := bytes.Repeat(vector, 3); !bytes.Equal(got, want) {
		t.Errorf("continuous mode sent % X, want % X", got, want)
	}
}

func TestThermometerCorruptNext(t *testing.T) {
	t.Parallel()
	dev := newThermometer(t, sim.ThermometerOptions{})
	p := openPort(t, dev.Path())
	dev.CorruptNext(2)
	ctx := testContext(t)
	for i, wantGood := range []bool{false, false, true} {
		p.Write(query)
		got, _ := readN(ctx, t, p, 9)
		if good := bytes.Equal(got, vector); good != wantGood || !bytes.Equal(got[:8], vector[:8]) {
			t.Errorf("frame %d = % X, want checksum good = %v", i, got, wantGood)
		}
	}
}

func TestThermometerSplit(t *testing.T) {
	t.Parallel()
	dev := newThermometer(t, sim.ThermometerOptions{SplitPause: 100 * time.Millisecond})
	p := openPort(t, dev.Path())
	dev.SetSplit(true)
	p.Write(query)
	got, reads := readN(testContext(t), t, p, 9)
	if !bytes.Equal(got, vector) {
		t.Errorf("split frame = % X, want % X", got, vector)
	}
	if len(reads) < 2 {
		t.Errorf("frame arrived in reads of %v bytes, want it split", reads)
	}
}

func TestThermometerSilent(t *testing.T) {
	t.Parallel()
	dev := newThermometer(t, sim.ThermometerOptions{})
	p := openPort(t, dev.Path())
	dev.SetSilent(true)
	p.Write(query)
	// Silence can only be observed by waiting: ten read timeouts.
	buf := make([]byte, 9)
	for range 10 {
		if n, err := p.Read(buf); n != 0 || err != nil {
			t.Fatalf("silent module: Read() = % X, %v; want nothing", buf[:n], err)
		}
	}
	dev.SetSilent(false)
	p.Write(query)
	if got, _ := readN(testContext(t), t, p, 9); !bytes.Equal(got, vector) {
		t.Errorf("after SetSilent(false): frame = % X, want % X", got, vector)
	}
}
