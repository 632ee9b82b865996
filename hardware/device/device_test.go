package device

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/scanner"
	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/hardware/sim/simtest"
	"github.com/gatepost/gatepost/hardware/thermometer"
	"github.com/gatepost/gatepost/internal/clock"
)

// advanceUntil moves the fake clock by the longest back-off each time
// the code under test waits on it, until cond holds. changed is told of
// the device's state changes. (hardware may not import the test kit: it
// waits on the clock's and the device's signals instead of polling.)
func advanceUntil(t *testing.T, clk *clock.Fake, changed <-chan struct{}, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		armed := clk.WaitersChanged()
		if cond() {
			return
		}
		if clk.Waiters() > 0 {
			clk.Advance(ReopenMax)
			continue
		}
		select {
		case <-armed:
		case <-changed:
		case <-deadline:
			t.Fatalf("%s: not within 15s", what)
		}
	}
}

// notify returns an OnChange that signals the returned channel.
func notify() (func(), <-chan struct{}) {
	ch := make(chan struct{}, 1)
	return func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}, ch
}

func gy() thermometer.Settings { return thermometer.Settings{Driver: "gy-mcu90614"} }

// TestThermometerReopensAfterReplug unplugs the thermometer and plugs
// another in under the same stable name: the keeper shows it gone, then
// back after its back-off, with no read asking for it.
func TestThermometerReopensAfterReplug(t *testing.T) {
	stable := filepath.Join(t.TempDir(), "usb-thermometer")
	first := simtest.Thermometer(t, sim.ThermometerOptions{Protocol: sim.GYMCU90614})
	simtest.Plug(t, stable, first.Path())
	clk := clock.NewFake(time.Time{})
	var changes atomic.Int32
	signal, changed := notify()
	th := OpenThermometer(stable, gy(), Options{Clock: clk, OnChange: func() { changes.Add(1); signal() }})
	defer th.Close()
	if st := th.Status(); st.State != StateConnected || st.Name != "thermometer" || st.Port != stable {
		t.Fatalf("Status() at start = %+v, want thermometer connected at %s", st, stable)
	}
	first.SetTemperature(36.7, 24)
	if r, err := th.Read(context.Background(), 2*time.Second); err != nil || r.Object != 36.7 {
		t.Fatalf("Read() = %+v, %v; want 36.7", r, err)
	}

	first.Close() // unplugged
	if _, err := th.Read(context.Background(), 500*time.Millisecond); err == nil {
		t.Fatal("Read() of an unplugged thermometer: no error")
	}
	if st := th.Status(); st.State == StateConnected || st.Detail == "" {
		t.Fatalf("Status() after unplug = %+v, want not connected, with a detail", st)
	}

	second := simtest.Thermometer(t, sim.ThermometerOptions{Protocol: sim.GYMCU90614})
	second.SetTemperature(36.9, 24)
	simtest.Plug(t, stable, second.Path()) // plugged in again
	advanceUntil(t, clk, changed, "the thermometer to show connected", func() bool { return th.Status().State == StateConnected })
	if r, err := th.Read(context.Background(), 2*time.Second); err != nil || r.Object != 36.9 {
		t.Fatalf("Read() after replug = %+v, %v; want 36.9", r, err)
	}
	if n := changes.Load(); n < 3 {
		t.Errorf("OnChange called %d times, want at least 3 (connected, lost, connected)", n)
	}
}

// TestThermometerMissingAtStart: a thermometer that is not there is
// shown disconnected, and a read says why without blocking.
func TestThermometerMissingAtStart(t *testing.T) {
	port := filepath.Join(t.TempDir(), "nothing")
	th := OpenThermometer(port, gy(), Options{Clock: clock.NewFake(time.Time{})})
	defer th.Close()
	if st := th.Status(); st.State != StateDisconnected {
		t.Fatalf("Status() = %+v, want disconnected", st)
	}
	if _, err := th.Read(context.Background(), time.Second); !errors.Is(err, serialport.ErrNotFound) {
		t.Fatalf("Read() = %v, want ErrNotFound", err)
	}
}

// TestScannerReopensAfterReplug: the scanner is reopened by Next, after
// its back-off, when it comes back under its stable name.
func TestScannerReopensAfterReplug(t *testing.T) {
	stable := filepath.Join(t.TempDir(), "usb-scanner")
	first := simtest.Scanner(t, sim.ScannerOptions{})
	simtest.Plug(t, stable, first.Path())
	clk := clock.NewFake(time.Time{})
	signal, changed := notify()
	sc := OpenScanner(stable, scanner.Settings{Driver: "serial", DuplicateWindow: -1}, Options{Clock: clk, OnChange: signal})
	defer sc.Close()
	ctx := context.Background()
	if err := first.Send("S-1"); err != nil {
		t.Fatal(err)
	}
	if got, err := sc.Next(ctx); err != nil || got.Text != "S-1" {
		t.Fatalf("Next() = %+v, %v; want S-1", got, err)
	}

	first.Close()
	if _, err := sc.Next(ctx); err == nil {
		t.Fatal("Next() of an unplugged scanner: no error")
	}
	if st := sc.Status(); st.State != StateDisconnected {
		t.Fatalf("Status() after unplug = %+v, want disconnected", st)
	}

	second := simtest.Scanner(t, sim.ScannerOptions{})
	simtest.Plug(t, stable, second.Path())
	type result struct {
		scan scanner.Scan
		err  error
	}
	results := make(chan result, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for {
			s, err := sc.Next(ctx)
			if err == nil || ctx.Err() != nil {
				results <- result{s, err}
				return
			}
		}
	}()
	advanceUntil(t, clk, changed, "the scanner to show connected", func() bool { return sc.Status().State == StateConnected })
	if err := second.Send("S-2"); err != nil {
		t.Fatal(err)
	}
	if r := <-results; r.err != nil || r.scan.Text != "S-2" {
		t.Fatalf("Next() after replug = %+v, %v; want S-2", r.scan, r.err)
	}
}

// TestScannerBadCodeKeepsTheDriver: a code that is not text is refused
// as ErrBadCode, and the scanner stays connected.
func TestScannerBadCodeKeepsTheDriver(t *testing.T) {
	s := simtest.Scanner(t, sim.ScannerOptions{})
	sc := OpenScanner(s.Path(), scanner.Settings{Driver: "serial", DuplicateWindow: -1}, Options{})
	defer sc.Close()
	if err := s.SendRaw([]byte("\xff\xfe\r")); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Next(context.Background()); !errors.Is(err, ErrBadCode) {
		t.Fatalf("Next() of invalid UTF-8 = %v, want ErrBadCode", err)
	}
	if st := sc.Status(); st.State != StateConnected {
		t.Fatalf("Status() after a bad code = %+v, want connected", st)
	}
	s.Send("OK-1")
	if got, err := sc.Next(context.Background()); err != nil || got.Text != "OK-1" {
		t.Fatalf("Next() after a bad code = %+v, %v; want OK-1", got, err)
	}
}

func TestStateOf(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("open: %w", serialport.ErrNotFound), StateDisconnected},
		{fmt.Errorf("read: %w", serialport.ErrGone), StateDisconnected},
		{serialport.ErrPermission, StateError},
		{thermometer.ErrNoReply, StateError},
	} {
		if got := StateOf(c.err); got != c.want {
			t.Errorf("StateOf(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
