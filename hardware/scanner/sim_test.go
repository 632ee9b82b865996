package scanner_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/scanner"
	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/gatepost/gatepost/hardware/sim"
)

// These tests drive the real stack: OpenSerial → serialport →
// go.bug.st/serial → a pseudo-terminal → the simulated scanner.

func newSim(t *testing.T, terminator string) *sim.Scanner {
	t.Helper()
	dev, err := sim.NewScanner(sim.ScannerOptions{Terminator: terminator})
	if err != nil {
		t.Fatalf("sim.NewScanner: %v", err)
	}
	t.Cleanup(func() { dev.Close() })
	return dev
}

func openSim(t *testing.T, dev *sim.Scanner) *scanner.Serial {
	t.Helper()
	s, err := scanner.OpenSerial(dev.Path(), 9600, scanner.SerialOptions{})
	if err != nil {
		t.Fatalf("OpenSerial(%s): %v", dev.Path(), err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func next(t *testing.T, s *scanner.Serial) (scanner.Scan, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.Next(ctx)
}

func wantCode(t *testing.T, s *scanner.Serial, want string) {
	t.Helper()
	sc, err := next(t, s)
	if err != nil {
		t.Fatalf("Next() error = %v, want %q", err, want)
	}
	if sc.Text != want || sc.At.IsZero() {
		t.Fatalf("Next() = %+v, want %q with a time", sc, want)
	}
}

var codes = []string{
	"HC1:NCFOXN%TS3DH3ZSUZK+.V0ETD%65NL-AH",
	"4006381333931",
	"grüße, 学生",
	"]d2\x1d0104012345",
}

func TestSimTerminators(t *testing.T) {
	t.Parallel()
	for _, term := range []string{"\r", "\n", "\r\n"} {
		t.Run(strings.NewReplacer("\r", "CR", "\n", "LF").Replace(term), func(t *testing.T) {
			t.Parallel()
			dev := newSim(t, term)
			s := openSim(t, dev)
			for _, c := range codes {
				if err := dev.Send(c); err != nil {
					t.Fatal(err)
				}
			}
			for _, c := range codes {
				wantCode(t, s, c)
			}
			if st := s.Stats(); st != (scanner.Stats{Codes: uint64(len(codes))}) {
				t.Errorf("Stats() = %+v, want %d codes only", st, len(codes))
			}
		})
	}
}

func TestSimCRLFAcrossReads(t *testing.T) {
	t.Parallel()
	dev := newSim(t, "")
	s := openSim(t, dev)
	if err := dev.SendRaw([]byte("first\r")); err != nil {
		t.Fatal(err)
	}
	// Next returns at the CR, so the LF can only come in a later read.
	wantCode(t, s, "first")
	if err := dev.SendRaw([]byte("\nsecond\r\n")); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s, "second")
}

func TestSimTooLongThenGood(t *testing.T) {
	t.Parallel()
	dev := newSim(t, "\r\n")
	s := openSim(t, dev)
	// The pty buffer is smaller than this burst; send while reading.
	sent := make(chan error, 1)
	go func() {
		if err := dev.Send(strings.Repeat("9", 10000)); err != nil {
			sent <- err
			return
		}
		sent <- dev.Send("after")
	}()
	if _, err := next(t, s); !errors.Is(err, scanner.ErrTooLong) {
		t.Fatalf("Next() = %v, want ErrTooLong", err)
	}
	wantCode(t, s, "after")
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
}

func TestSimReopen(t *testing.T) {
	t.Parallel()
	dev := newSim(t, "\r")
	for i := range 3 {
		s, err := scanner.OpenSerial(dev.Path(), 0, scanner.SerialOptions{})
		if err != nil {
			t.Fatalf("open #%d of %s: %v", i+1, dev.Path(), err)
		}
		if err := dev.Send("code"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, s, "code")
		if err := s.Close(); err != nil {
			t.Fatalf("Close() #%d = %v", i+1, err)
		}
	}
}

func TestSimDeviceGone(t *testing.T) {
	t.Parallel()
	dev := newSim(t, "\r")
	s := openSim(t, dev)
	dev.Close()
	if sc, err := next(t, s); !errors.Is(err, serialport.ErrGone) {
		t.Fatalf("Next() after the device went away = %+v, %v; want ErrGone", sc, err)
	}
}

// TestTriggerAndNoReadOnPTY: a ZKTeco-style scanner in trigger mode,
// over a real pseudo-terminal: the driver sends T, the scanner answers
// %%NoRead (ignored), the driver triggers again, the code arrives with
// its AIM prefix stripped, and Close sends P.
func TestTriggerAndNoReadOnPTY(t *testing.T) {
	t.Parallel()
	dev := newSim(t, "\r\n")
	s, err := scanner.Open(dev.Path(), scanner.Settings{Driver: "serial", Trigger: "zkteco", StripAIM: true, NoRead: scanner.DefaultNoRead()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got := make(chan string, 1)
	go func() {
		sc, err := s.Next(ctx)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- sc.Text
	}()
	waitReceived := func(want string) {
		t.Helper()
		scanner.WaitUntil(t, fmt.Sprintf("the scanner received exactly %q", want), func() bool { return string(dev.Received()) == want })
	}
	waitReceived("T")
	dev.Send("%%NoRead")
	waitReceived("TT")
	dev.Send("]Q1GP1:visitor:7-101")
	if text := <-got; text != "GP1:visitor:7-101" {
		t.Fatalf("Next() = %q, want the code without ]Q1", text)
	}
	s.Close()
	waitReceived("TTP")
}

// TestHoneywellTriggerModeSimulated: a simulated Honeywell scanner in
// trigger mode answers only when triggered, with an AIM prefix, and with
// %%NoRead when it has nothing.
func TestHoneywellTriggerModeSimulated(t *testing.T) {
	t.Parallel()
	hw := scanner.Triggers()["honeywell"]
	dev, err := sim.NewScanner(sim.ScannerOptions{Trigger: hw.Start, AIM: "]Q1", NoRead: "%%NoRead"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	dev.Send("GP1:resident:9-901")
	s, err := scanner.Open(dev.Path(), scanner.Settings{Driver: "serial", Trigger: "honeywell", StripAIM: true, NoRead: scanner.DefaultNoRead()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sc, err := s.Next(ctx)
	if err != nil || sc.Text != "GP1:resident:9-901" {
		t.Fatalf("Next() = %q, %v; want the queued code without its AIM prefix", sc.Text, err)
	}
	// Nothing queued: the scanner answers %%NoRead, which is not a code.
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if sc, err := s.Next(short); err == nil {
		t.Fatalf("Next() with nothing to scan = %q, want no code", sc.Text)
	}
	if st := s.(interface{ Stats() scanner.Stats }).Stats(); st.NoRead == 0 {
		t.Errorf("Stats() = %+v, want the no-read reply counted", st)
	}
}
