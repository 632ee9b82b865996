package serialport_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/gatepost/gatepost/hardware/sim"
)

// The device behind these tests is a simulated scanner: the simplest
// thing that writes bytes to a pseudo-terminal.

func newDevice(t *testing.T) *sim.Scanner {
	t.Helper()
	dev, err := sim.NewScanner(sim.ScannerOptions{})
	if err != nil {
		t.Fatalf("sim.NewScanner: %v", err)
	}
	t.Cleanup(func() { dev.Close() })
	return dev
}

func open(t *testing.T, path string, cfg serialport.Config) *serialport.Port {
	t.Helper()
	p, err := serialport.Open(path, cfg)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// readString reads until it has n bytes, looping over read timeouts.
func readString(t *testing.T, p *serialport.Port, n int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var got []byte
	buf := make([]byte, 64)
	for len(got) < n && ctx.Err() == nil {
		k, err := p.Read(buf)
		if err != nil {
			t.Fatalf("Read() error = %v after %q", err, got)
		}
		got = append(got, buf[:k]...)
	}
	return string(got)
}

func TestOpenReadWrite(t *testing.T) {
	t.Parallel()
	dev := newDevice(t)
	p := open(t, dev.Path(), serialport.Config{})
	if p.Path() != dev.Path() {
		t.Errorf("Path() = %q, want %q", p.Path(), dev.Path())
	}
	dev.Send("hello")
	if got := readString(t, p, 7); got != "hello\r\n" {
		t.Errorf("read %q, want %q", got, "hello\r\n")
	}
	if _, err := p.Write([]byte("ignored by the scanner")); err != nil {
		t.Errorf("Write() = %v", err)
	}
}

func TestReadTimeoutIsZeroNil(t *testing.T) {
	t.Parallel()
	dev := newDevice(t)
	p := open(t, dev.Path(), serialport.Config{ReadTimeout: 20 * time.Millisecond})
	start := time.Now()
	n, err := p.Read(make([]byte, 8))
	if n != 0 || err != nil {
		t.Fatalf("Read() with no data = %d, %v; want 0, nil", n, err)
	}
	if d := time.Since(start); d < 15*time.Millisecond {
		t.Errorf("Read() returned after %v, want it to wait the 20ms timeout", d)
	}
}

func TestOpenDiscardsStaleInput(t *testing.T) {
	t.Parallel()
	dev := newDevice(t)
	dev.Send("stale") // sent while nobody had the port open
	p := open(t, dev.Path(), serialport.Config{})
	dev.Send("fresh")
	if got := readString(t, p, 7); got != "fresh\r\n" {
		t.Errorf("first read after Open = %q, want %q", got, "fresh\r\n")
	}
}

func TestCloseUnblocksRead(t *testing.T) {
	t.Parallel()
	dev := newDevice(t)
	p := open(t, dev.Path(), serialport.Config{ReadTimeout: time.Hour})
	errc := make(chan error)
	go func() {
		_, err := p.Read(make([]byte, 8))
		errc <- err
	}()
	if err := p.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := <-errc; !errors.Is(err, serialport.ErrClosed) {
		t.Errorf("Read() during Close = %v, want ErrClosed", err)
	}
	if _, err := p.Read(make([]byte, 8)); !errors.Is(err, serialport.ErrClosed) {
		t.Errorf("Read() after Close = %v, want ErrClosed", err)
	}
	if _, err := p.Write([]byte("x")); !errors.Is(err, serialport.ErrClosed) {
		t.Errorf("Write() after Close = %v, want ErrClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
}

func TestDeviceGone(t *testing.T) {
	t.Parallel()
	dev := newDevice(t)
	p := open(t, dev.Path(), serialport.Config{})
	dev.Close()
	_, err := p.Read(make([]byte, 8))
	if !errors.Is(err, serialport.ErrGone) || errors.Is(err, serialport.ErrClosed) {
		t.Fatalf("Read() after the device closed = %v, want ErrGone and not ErrClosed", err)
	}
	if want := "read serial port " + dev.Path() + ": device gone"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %q, want it to start %q", err, want)
	}
}

func TestReopen(t *testing.T) {
	t.Parallel()
	dev := newDevice(t)
	for i := range 3 {
		p := open(t, dev.Path(), serialport.Config{})
		dev.Send("x")
		if got := readString(t, p, 3); got != "x\r\n" {
			t.Fatalf("open #%d: read %q, want %q", i+1, got, "x\r\n")
		}
		if err := p.Close(); err != nil {
			t.Fatalf("Close() #%d = %v", i+1, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	regular := filepath.Join(t.TempDir(), "not-a-tty")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "ttyUSB9")
	tests := []struct {
		path     string
		cfg      serialport.Config
		want     error
		wantText string
	}{
		{missing, serialport.Config{}, serialport.ErrNotFound, "open serial port " + missing + ": port not found"},
		{regular, serialport.Config{}, serialport.ErrNotSerial, "open serial port " + regular + ": not a serial port"},
		{os.DevNull, serialport.Config{}, serialport.ErrNotSerial, "not a serial port"},
		{missing, serialport.Config{DataBits: 9}, nil, "data_bits = 9"},
	}
	for _, tt := range tests {
		p, err := serialport.Open(tt.path, tt.cfg)
		if err == nil {
			p.Close()
			t.Errorf("Open(%s, %+v) = nil error, want %q", tt.path, tt.cfg, tt.wantText)
			continue
		}
		if tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("Open(%s, %+v) = %v, want %v", tt.path, tt.cfg, err, tt.want)
		}
		if !strings.Contains(err.Error(), tt.wantText) {
			t.Errorf("Open(%s, %+v) = %q, want it to say %q", tt.path, tt.cfg, err, tt.wantText)
		}
	}
}

func TestOpenPermissionDenied(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root opens anything: run the tests as another user to check ErrPermission")
	}
	locked := filepath.Join(t.TempDir(), "ttyLocked")
	if err := os.WriteFile(locked, nil, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := serialport.Open(locked, serialport.Config{}); !errors.Is(err, serialport.ErrPermission) {
		t.Errorf("Open(unreadable) = %v, want ErrPermission", err)
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	ports, err := serialport.List()
	if err != nil {
		t.Fatalf("List() = %v", err)
	}
	for _, p := range ports {
		if p.Path == "" || strings.HasPrefix(p.Path, "/dev/pts/") {
			t.Errorf("List() includes %+v, want real ports with paths only", p)
		}
	}
	t.Logf("serial ports here: %+v", ports)
}
