package scanner

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/serialport"
)

// chunkPort returns the chunks it is given, one per Read, and like a
// serialport.Port returns (0, nil) when a short read timeout passes.
type chunkPort struct {
	data      chan []byte
	errs      chan error // returned by the next Read instead of waiting
	closed    chan struct{}
	closeOnce sync.Once
}

func newChunkPort(chunks ...string) *chunkPort {
	p := &chunkPort{data: make(chan []byte, 64), errs: make(chan error, 1), closed: make(chan struct{})}
	for _, c := range chunks {
		p.data <- []byte(c)
	}
	return p
}

func (p *chunkPort) Read(b []byte) (int, error) {
	select {
	case c := <-p.data:
		n := copy(b, c)
		select {
		case err := <-p.errs:
			return n, err
		default:
			return n, nil
		}
	case <-p.closed:
		return 0, errors.New("chunk port closed")
	case <-time.After(5 * time.Millisecond):
		select {
		case err := <-p.errs:
			return 0, err
		default:
			return 0, nil
		}
	}
}

func (p *chunkPort) Write(b []byte) (int, error) { return len(b), nil }

func (p *chunkPort) Close() error {
	p.closeOnce.Do(func() { close(p.closed) })
	return nil
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSerialNext(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	port := newChunkPort("first\r", "\nsec", "ond\r\nthird\n", "\xff\r\n", "fourth\r")
	s := NewSerial(port, SerialOptions{Now: func() time.Time { return at }})
	defer s.Close()
	ctx := testContext(t)
	for _, want := range []string{"first", "second", "third", "<invalid UTF-8>", "fourth"} {
		sc, err := s.Next(ctx)
		got := sc.Text
		if errors.Is(err, ErrInvalidUTF8) {
			got = "<invalid UTF-8>"
		} else if err != nil {
			t.Fatalf("Next() error = %v, want %q", err, want)
		}
		if got != want {
			t.Fatalf("Next() = %q, want %q", got, want)
		}
		if err == nil && !sc.At.Equal(at) {
			t.Errorf("Next().At = %v, want %v", sc.At, at)
		}
	}
	if st := s.Stats(); st != (Stats{Codes: 4, InvalidUTF8: 1}) {
		t.Errorf("Stats() = %+v, want 4 codes and 1 invalid", st)
	}
}

func TestSerialCodesBeforeReadError(t *testing.T) {
	t.Parallel()
	gone := errors.New("device gone")
	port := newChunkPort("a\rb\r")
	port.errs <- gone // arrives with the chunk
	s := NewSerial(port, SerialOptions{})
	defer s.Close()
	ctx := testContext(t)
	for _, want := range []string{"a", "b"} {
		if sc, err := s.Next(ctx); err != nil || sc.Text != want {
			t.Fatalf("Next() = %q, %v; want %q", sc.Text, err, want)
		}
	}
	if _, err := s.Next(ctx); !errors.Is(err, gone) {
		t.Fatalf("Next() = %v, want the read error after the codes", err)
	}
}

func TestSerialHonoursContext(t *testing.T) {
	t.Parallel()
	s := NewSerial(newChunkPort(), SerialOptions{})
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next() = %v, want context.DeadlineExceeded", err)
	}
}

func TestSerialClose(t *testing.T) {
	t.Parallel()
	s := NewSerial(newChunkPort(), SerialOptions{})
	errc := make(chan error)
	go func() {
		_, err := s.Next(context.Background())
		errc <- err
	}()
	_ = s.Stats() // safe while Next waits (the race detector checks)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := <-errc; !errors.Is(err, serialport.ErrClosed) {
		t.Errorf("Next() during Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
}
