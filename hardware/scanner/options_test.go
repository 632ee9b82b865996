package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
)

// newFakeClock is the clock the scanner tests move by hand; the drivers
// take its Now.
func newFakeClock() *clock.Fake { return clock.NewFake(time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC)) }

// writeLog is a chunkPort that records what the driver writes.
type writeLog struct {
	*chunkPort
	mu     sync.Mutex
	writes [][]byte
}

func (w *writeLog) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, bytes.Clone(b))
	return len(b), nil
}

func (w *writeLog) Writes() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([][]byte(nil), w.writes...)
}

func TestSerialStripsAIMAndIgnoresNoRead(t *testing.T) {
	t.Parallel()
	port := newChunkPort("]Q1GP1:resident:3-502\r\n%%NoRead\r\n]C0ABC-123\r\n]x\r\n]Q1\r\nplain\r\n")
	s := NewSerial(port, SerialOptions{StripAIM: true, NoRead: DefaultNoRead()})
	defer s.Close()
	for _, want := range []string{"GP1:resident:3-502", "ABC-123", "]x", "plain"} {
		sc, err := s.Next(testContext(t))
		if err != nil || sc.Text != want {
			t.Fatalf("Next() = %q, %v; want %q", sc.Text, err, want)
		}
	}
	if st := s.Stats(); st.NoRead != 2 {
		t.Errorf("Stats().NoRead = %d, want 2 (%%%%NoRead and an empty code after ]Q1)", st.NoRead)
	}
}

func TestSerialIdleGapEndsCode(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	port := newChunkPort("ABC", "-123")
	s := NewSerial(port, SerialOptions{IdleGap: 50 * time.Millisecond, Now: clock.Now})
	defer s.Close()
	got := make(chan string, 1)
	go func() {
		sc, err := s.Next(testContext(t))
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- sc.Text
	}()
	// Until the clock passes the gap, read timeouts keep the code open.
	deadline := time.Now().Add(2 * time.Second)
	for {
		select {
		case text := <-got:
			if text != "ABC-123" {
				t.Fatalf("Next() = %q, want ABC-123 ended by the gap", text)
			}
			return
		case <-time.After(10 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("the idle gap never ended the code")
			}
			clock.Advance(20 * time.Millisecond)
		}
	}
}

func TestSerialTrigger(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	port := &writeLog{chunkPort: newChunkPort()}
	hw := Triggers()["honeywell"]
	hw.Every = time.Second
	s := NewSerial(port, SerialOptions{Trigger: &hw, Now: clock.Now, NoRead: DefaultNoRead()})

	ctx, cancel := context.WithCancel(testContext(t))
	got := make(chan Scan, 1)
	go func() {
		sc, _ := s.Next(ctx)
		got <- sc
	}()
	waitWrites := func(n int) {
		t.Helper()
		waitUntil(t, fmt.Sprintf("the driver has written %d times", n), func() bool { return len(port.Writes()) >= n })
	}
	waitWrites(1)
	clock.Advance(999 * time.Millisecond)
	port.data <- []byte("%%NoRead\r")
	waitWrites(2) // re-armed after the no-read reply
	clock.Advance(time.Second)
	waitWrites(3) // re-armed after Every
	port.data <- []byte("CODE\r")
	if sc := <-got; sc.Text != "CODE" {
		t.Fatalf("Next() = %q, want CODE", sc.Text)
	}
	cancel()
	s.Close()
	w := port.Writes()
	for i, b := range w[:3] {
		if !bytes.Equal(b, []byte{0x16, 0x54, 0x0D}) {
			t.Errorf("write %d = % X, want the Honeywell start 16 54 0D", i, b)
		}
	}
	if last := w[len(w)-1]; !bytes.Equal(last, []byte{0x16, 0x55, 0x0D}) {
		t.Errorf("last write = % X, want the stop command 16 55 0D on Close", last)
	}
}

// listScanner returns scans from a list, then blocks until ctx is done.
type listScanner struct{ codes []string }

func (l *listScanner) Next(ctx context.Context) (Scan, error) {
	if len(l.codes) == 0 {
		<-ctx.Done()
		return Scan{}, ctx.Err()
	}
	c := l.codes[0]
	l.codes = l.codes[1:]
	return Scan{Text: c}, nil
}
func (l *listScanner) Close() error { return nil }

func TestDedupe(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	inner := &listScanner{}
	d := Dedupe(inner, 2*time.Second, clock.Now)
	step := func(code string, advance time.Duration) {
		clock.Advance(advance)
		inner.codes = append(inner.codes, code)
	}
	// A, A after 1 s (dup), A after 1.5 s more (dup: the window slides),
	// B, then A again after 2 s (new), A after 2.1 s (new).
	step("A", 0)
	ctx := testContext(t)
	want := func(w string) {
		t.Helper()
		sc, err := d.Next(ctx)
		if err != nil || sc.Text != w {
			t.Fatalf("Next() = %q, %v; want %q", sc.Text, err, w)
		}
	}
	want("A")
	clock.Advance(time.Second)
	inner.codes = []string{"A"}
	// The repeat is dropped; Next then reads B.
	inner.codes = append(inner.codes, "B")
	want("B")
	clock.Advance(2 * time.Second)
	inner.codes = []string{"A"}
	want("A")
	clock.Advance(2100 * time.Millisecond)
	inner.codes = []string{"A"}
	want("A")
	if st := d.Stats(); st.Duplicates != 1 {
		t.Errorf("Duplicates = %d, want 1", st.Duplicates)
	}
}

func TestReaderFromPipe(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	rd := NewReader(r, 0, nil)
	go func() {
		io.WriteString(w, "one\r\ntw")
		io.WriteString(w, "o\nlast")
		w.Close()
	}()
	ctx := testContext(t)
	for _, want := range []string{"one", "two", "last"} {
		sc, err := rd.Next(ctx)
		if err != nil || sc.Text != want {
			t.Fatalf("Next() = %q, %v; want %q", sc.Text, err, want)
		}
	}
	if _, err := rd.Next(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("Next() at the end = %v, want io.EOF", err)
	}
	if err := rd.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}

func TestReaderCloseWhileWaiting(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	rd := NewReader(r, 0, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := rd.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next() = %v, want the context's deadline", err)
	}
	rd.Close() // the reading goroutine must end (goleak checks)
}
