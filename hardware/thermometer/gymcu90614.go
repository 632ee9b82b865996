package thermometer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatepost/gatepost/hardware/serialport"
)

// gyRetries is how many times Read asks again after a damaged frame:
// enough to ride out a burst of noise, few enough not to flood a module
// that only ever answers with damaged frames.
const gyRetries = 3

// GYOptions configures a GY-MCU90614 driver. Zero fields take defaults.
type GYOptions struct {
	// ReplyTimeout is how long Read waits for an answer when ctx allows
	// longer; zero or negative means 1 s.
	ReplyTimeout time.Duration
	// Now stamps readings; nil means time.Now.
	Now func() time.Time
}

// GYMCU90614 drives a GY-MCU90614 module in query mode: each Read sends
// the query command and returns the next valid frame.
type GYMCU90614 struct {
	port io.ReadWriteCloser
	opts GYOptions

	mu  sync.Mutex // one Read at a time; guards dec and buf
	dec GYDecoder
	buf [64]byte

	closed atomic.Bool
}

var _ Thermometer = (*GYMCU90614)(nil)

// NewGYMCU90614 returns a driver for the module on port, which must be set
// to 9600 8N1. The driver owns port and closes it on Close.
func NewGYMCU90614(port io.ReadWriteCloser, opts GYOptions) *GYMCU90614 {
	if opts.ReplyTimeout <= 0 {
		opts.ReplyTimeout = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &GYMCU90614{port: port, opts: opts}
}

// OpenGYMCU90614 opens the serial port at path at 9600 8N1 and returns a
// driver for the module on it.
func OpenGYMCU90614(path string, opts GYOptions) (*GYMCU90614, error) {
	p, err := serialport.Open(path, serialport.Config{Baud: 9600})
	if err != nil {
		return nil, fmt.Errorf("thermometer: %w", err)
	}
	return NewGYMCU90614(p, opts), nil
}

// Read sends the query command and returns the first valid frame that
// follows, waiting until ctx is done or ReplyTimeout passes. Frames with a
// bad checksum are counted and dropped, and the query is sent again (up to
// three times).
//
// Read notices ctx only between reads of the port, so the port's read
// timeout (100 ms for a serialport.Port) bounds how late it returns.
// Timing out yields an error wrapping ErrNoReply, or ErrChecksum if only
// damaged frames came; if ctx's own deadline passed, it wraps
// context.DeadlineExceeded too.
func (g *GYMCU90614) Read(ctx context.Context) (Reading, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed.Load() {
		return Reading{}, fmt.Errorf("thermometer: %w", serialport.ErrClosed)
	}
	limit := g.opts.ReplyTimeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < limit {
		limit = max(0, time.Until(d).Round(time.Millisecond))
	}
	wait, cancel := context.WithTimeout(ctx, g.opts.ReplyTimeout)
	defer cancel()

	// Anything already received answers an earlier question: in
	// continuous mode it may be seconds old.
	if r, ok := g.port.(interface{ ResetInputBuffer() error }); ok {
		if err := r.ResetInputBuffer(); err == nil {
			g.dec.Reset()
		}
	}
	before := g.dec.Stats()
	if err := g.query(); err != nil {
		return Reading{}, err
	}
	var frames []GYFrame
	retries := 0
	for {
		if wait.Err() != nil {
			return Reading{}, g.timeoutError(ctx, limit, before)
		}
		n, err := g.port.Read(g.buf[:])
		if n > 0 {
			bad := g.dec.Stats().BadChecksum
			frames = g.dec.Feed(frames[:0], g.buf[:n])
			if len(frames) > 0 {
				f := frames[0]
				return Reading{Object: f.Object(), Ambient: f.Ambient(), HasAmbient: true, At: g.opts.Now()}, nil
			}
			if g.dec.Stats().BadChecksum > bad && retries < gyRetries {
				// Ask again rather than wait out the timeout.
				retries++
				if err := g.query(); err != nil {
					return Reading{}, err
				}
			}
		}
		if err != nil {
			if g.closed.Load() {
				return Reading{}, fmt.Errorf("thermometer: %w", serialport.ErrClosed)
			}
			return Reading{}, fmt.Errorf("read thermometer: %w", err)
		}
		// (0, nil) is the port's read timeout: no data yet.
	}
}

func (g *GYMCU90614) query() error {
	if _, err := io.WriteString(g.port, gyQuery); err != nil {
		if g.closed.Load() {
			return fmt.Errorf("thermometer: %w", serialport.ErrClosed)
		}
		return fmt.Errorf("send query to thermometer: %w", err)
	}
	return nil
}

// timeoutError explains a Read that got no valid frame within limit, from
// what did arrive while it waited.
func (g *GYMCU90614) timeoutError(ctx context.Context, limit time.Duration, before Stats) error {
	if err := ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("read thermometer: %w", err) // cancelled, not late
	}
	after := g.dec.Stats()
	bad, garbage := after.BadChecksum-before.BadChecksum, after.Garbage-before.Garbage
	var err error
	switch {
	case bad > 0:
		err = fmt.Errorf("%w: %d damaged frames and no good one within %v; check for a loose cable or electrical noise", ErrChecksum, bad, limit)
	case garbage > 0:
		err = fmt.Errorf("%w within %v: received %d bytes that were not GY-MCU90614 frames; check the baud rate is 9600 and the module type", ErrNoReply, limit, garbage)
	default:
		err = fmt.Errorf("%w within %v: check the cable and that the module is a GY-MCU90614 at 9600 baud", ErrNoReply, limit)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", err, ctx.Err())
	}
	return err
}

// Stats returns what the driver has received so far. It is safe to call
// while a Read is in progress.
func (g *GYMCU90614) Stats() Stats { return g.dec.Stats() }

// Close closes the port, which ends a Read in progress. Closing twice is
// harmless.
func (g *GYMCU90614) Close() error {
	if !g.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := g.port.Close(); err != nil {
		return fmt.Errorf("close thermometer: %w", err)
	}
	return nil
}
