package thermometer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/serialport"
)

var (
	goodFrame = []byte{0x5A, 0x5A, 0x45, 0x04, 0x0E, 0x42, 0x09, 0xC4, 0x1A}
	badFrame  = []byte{0x5A, 0x5A, 0x45, 0x04, 0x0E, 0x42, 0x09, 0xC4, 0x1B}
	// 37.20 / 24.50
	otherFrame = []byte{0x5A, 0x5A, 0x45, 0x04, 0x0E, 0x88, 0x09, 0x92, 0x2E}
)

// scriptedPort is a module at the edge of the driver: it answers the n-th
// query with the chunks in replies[n], each returned by its own Read, and
// like a serialport.Port returns (0, nil) when a short read timeout passes.
type scriptedPort struct {
	replies [][][]byte
	readErr error // returned by Read once the script is spent, if set

	mu      sync.Mutex
	queries int

	data      chan []byte
	closed    chan struct{}
	closeOnce sync.Once
}

func newScriptedPort(replies ...[][]byte) *scriptedPort {
	return &scriptedPort{replies: replies, data: make(chan []byte, 64), closed: make(chan struct{})}
}

func (p *scriptedPort) Write(b []byte) (int, error) {
	select {
	case <-p.closed:
		return 0, errors.New("scripted port closed")
	default:
	}
	if !bytes.Equal(b, gyProfile().Query) {
		return 0, errors.New("scripted port: unexpected write")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.queries < len(p.replies) {
		for _, c := range p.replies[p.queries] {
			p.data <- c
		}
	}
	p.queries++
	return len(b), nil
}

func (p *scriptedPort) Read(b []byte) (int, error) {
	select {
	case c := <-p.data:
		return copy(b, c), nil
	case <-p.closed:
		return 0, errors.New("scripted port closed")
	case <-time.After(5 * time.Millisecond):
		if p.readErr != nil {
			return 0, p.readErr
		}
		return 0, nil
	}
}

func (p *scriptedPort) Close() error {
	p.closeOnce.Do(func() { close(p.closed) })
	return nil
}

func (p *scriptedPort) Queries() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queries
}

// flushablePort is a scriptedPort that can discard what it has received,
// as a serialport.Port can.
type flushablePort struct{ *scriptedPort }

func (p flushablePort) ResetInputBuffer() error {
	for {
		select {
		case <-p.data:
		default:
			return nil
		}
	}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// gyProfile is the built-in GY-MCU90614 profile: the one driver for
// that module.
func gyProfile() FrameProfile {
	p, err := LookupProfile("gy-mcu90614")
	if err != nil {
		panic(err)
	}
	return p
}

// newGY returns the driver kiosk.toml's driver = "gy-mcu90614" gets, on
// port. Retries 3: ask again up to three times after damaged frames.
func newGY(t *testing.T, port io.ReadWriteCloser, q QueryOptions) Thermometer {
	t.Helper()
	if q.Retries == 0 {
		q.Retries = 3
	}
	th, err := New(port, Settings{Driver: "gy-mcu90614", Query: q})
	if err != nil {
		t.Fatalf("New(gy-mcu90614): %v", err)
	}
	t.Cleanup(func() { th.Close() })
	return th
}

func TestGYReadGolden(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, g := range loadStreams(t, "gymcu90614") {
		if len(g.wants) == 0 {
			continue
		}
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			th := newGY(t, newScriptedPort(g.reads), QueryOptions{Now: func() time.Time { return at }})
			r, err := th.Read(testContext(t))
			if err != nil {
				t.Fatalf("Read() error = %v", err)
			}
			want := g.wants[0]
			want.At = at
			if r != want {
				t.Errorf("Read() = %+v, want %+v", r, want)
			}
		})
	}
}

func TestGYRequeriesAfterBadChecksum(t *testing.T) {
	t.Parallel()
	port := newScriptedPort([][]byte{badFrame}, [][]byte{otherFrame})
	th := newGY(t, port, QueryOptions{})
	r, err := th.Read(testContext(t))
	if err != nil {
		t.Fatalf("Read() error = %v", err)
	}
	if r.Object != 37.2 || r.Ambient != 24.5 {
		t.Errorf("Read() = %+v, want the good frame 37.20/24.50", r)
	}
	if q := port.Queries(); q != 2 {
		t.Errorf("queries sent = %d, want 2 (one more after the bad frame)", q)
	}
	if s, _ := StatsOf(th); s != (Stats{Frames: 1, BadChecksum: 1}) {
		t.Errorf("Stats() = %+v, want 1 frame and 1 bad checksum", s)
	}
}

func TestGYDiscardsStaleInput(t *testing.T) {
	t.Parallel()
	port := flushablePort{newScriptedPort([][]byte{otherFrame})}
	port.data <- goodFrame // arrived before the query: stale
	th := newGY(t, port, QueryOptions{})
	r, err := th.Read(testContext(t))
	if err != nil {
		t.Fatalf("Read() error = %v", err)
	}
	if r.Object != 37.2 {
		t.Errorf("Read().Object = %v, want 37.2 (the answer, not the stale frame)", r.Object)
	}
}

func TestGYErrors(t *testing.T) {
	t.Parallel()
	portErr := errors.New("input/output error")
	tests := []struct {
		name     string
		port     *scriptedPort
		want     error
		wantText string
	}{
		{"silent", newScriptedPort(), ErrNoReply, "check the cable, that the module is a gy-mcu90614 and the baud rate (usually 9600)"},
		{"garbage", newScriptedPort([][]byte{{0x13, 0x37, 0x00}}), ErrNoReply, "received 3 bytes that made no sense"},
		{"bad checksums", newScriptedPort([][]byte{badFrame}, [][]byte{badFrame}), ErrChecksum, "2 damaged answers"},
		{"port error", func() *scriptedPort { p := newScriptedPort(); p.readErr = portErr; return p }(), portErr, "read thermometer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			th := newGY(t, tt.port, QueryOptions{ReplyTimeout: 100 * time.Millisecond})
			r, err := th.Read(testContext(t))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Read() = %+v, %v; want error %v", r, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Read() error = %q, want it to say %q", err, tt.wantText)
			}
		})
	}
}

func TestGYHonoursContext(t *testing.T) {
	t.Parallel()
	t.Run("deadline before reply timeout", func(t *testing.T) {
		t.Parallel()
		th := newGY(t, newScriptedPort(), QueryOptions{ReplyTimeout: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := th.Read(ctx)
		if !errors.Is(err, ErrNoReply) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Read() error = %v, want ErrNoReply and context.DeadlineExceeded", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		th := newGY(t, newScriptedPort(), QueryOptions{ReplyTimeout: time.Minute})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := th.Read(ctx)
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrNoReply) {
			t.Errorf("Read() error = %v, want context.Canceled only", err)
		}
	})
}

func TestGYClose(t *testing.T) {
	t.Parallel()
	th := newGY(t, newScriptedPort(), QueryOptions{ReplyTimeout: time.Minute})
	errc := make(chan error)
	go func() {
		_, err := th.Read(testContext(t))
		errc <- err
	}()
	// Stats must be safe while Read runs (the race detector checks).
	_, _ = StatsOf(th)
	if err := th.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := <-errc; !errors.Is(err, serialport.ErrClosed) {
		t.Errorf("Read() during Close = %v, want ErrClosed", err)
	}
	if _, err := th.Read(testContext(t)); !errors.Is(err, serialport.ErrClosed) {
		t.Errorf("Read() after Close = %v, want ErrClosed", err)
	}
	if err := th.Close(); err != nil {
		t.Errorf("second Close() = %v, want nil", err)
	}
}
