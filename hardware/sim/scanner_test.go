package sim_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/hardware/sim"
)

func newScanner(t *testing.T, opts sim.ScannerOptions) *sim.Scanner {
	t.Helper()
	dev, err := sim.NewScanner(opts)
	if err != nil {
		t.Fatalf("NewScanner: %v", err)
	}
	t.Cleanup(func() {
		if err := dev.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return dev
}

func TestScannerSend(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ terminator, want string }{
		{"", "ABC-123\r\n"},
		{"\r", "ABC-123\r"},
		{"\n", "ABC-123\n"},
		{"\r\n", "ABC-123\r\n"},
	} {
		name := strings.NewReplacer("\r", "CR", "\n", "LF").Replace(tt.terminator)
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dev := newScanner(t, sim.ScannerOptions{Terminator: tt.terminator})
			p := openPort(t, dev.Path())
			if err := dev.Send("ABC-123"); err != nil {
				t.Fatal(err)
			}
			if got, _ := readN(testContext(t), t, p, len(tt.want)); string(got) != tt.want {
				t.Errorf("Send(%q) with terminator %q wrote %q, want %q", "ABC-123", tt.terminator, got, tt.want)
			}
		})
	}
}

func TestScannerSendRaw(t *testing.T) {
	t.Parallel()
	dev := newScanner(t, sim.ScannerOptions{})
	p := openPort(t, dev.Path())
	raw := []byte("\xff\x00\r\x1d")
	if err := dev.SendRaw(raw); err != nil {
		t.Fatal(err)
	}
	if got, _ := readN(testContext(t), t, p, len(raw)); !bytes.Equal(got, raw) {
		t.Errorf("SendRaw(% X) wrote % X", raw, got)
	}
}

func TestScannerIgnoresInput(t *testing.T) {
	t.Parallel()
	dev := newScanner(t, sim.ScannerOptions{})
	p := openPort(t, dev.Path())
	if _, err := p.Write([]byte("\x16T\r")); err != nil { // a trigger command
		t.Fatal(err)
	}
	dev.Send("x")
	if got, _ := readN(testContext(t), t, p, 3); string(got) != "x\r\n" {
		t.Errorf("read %q, want %q (and no echo)", got, "x\r\n")
	}
}

func TestScannerCloseUnblocksSend(t *testing.T) {
	t.Parallel()
	dev, err := sim.NewScanner(sim.ScannerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Nobody reads, so this fills the pty and blocks until Close.
	errc := make(chan error)
	go func() { errc <- dev.SendRaw(make([]byte, 1<<20)) }()
	if err := dev.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := <-errc; err == nil {
		t.Error("SendRaw during Close returned nil, want an error")
	}
	if err := dev.Send("late"); err == nil {
		t.Error("Send after Close returned nil, want an error")
	}
}
