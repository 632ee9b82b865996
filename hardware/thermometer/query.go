package thermometer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatepost/gatepost/hardware"
	"github.com/gatepost/gatepost/hardware/serialport"
)

// decoder turns the bytes a module sends into readings. Feed returns the
// first reading its bytes complete; a non-nil error is a definite answer
// that is not a reading (a Modbus exception), which Read returns at once.
type decoder interface {
	Feed(p []byte) (Reading, bool, error)
	Reset()
	Stats() Stats
}

// QueryOptions are the timing settings shared by the drivers that ask a
// module and wait for its answer. Zero fields take defaults.
type QueryOptions struct {
	// ReplyTimeout is how long one request waits for its answer; zero
	// means 1 s.
	ReplyTimeout time.Duration
	// Retries is how many more times a request is sent after a damaged
	// answer or no answer; zero means none, negative is treated as zero.
	Retries int
	// PollInterval is the least time between two requests (the bus
	// turnaround some RS-485 modules need); zero means no limit.
	PollInterval time.Duration
	// Now stamps readings; nil means time.Now.
	Now func() time.Time
}

// MaxRetries is the most Retries Validate accepts: more would hold a
// guard and a queue of people for many reply timeouts.
const MaxRetries = 10

// Validate names the first bad option: a *hardware.SettingError, its
// setting spelled as kiosk.toml's [thermometer] section spells it. Zero
// fields are valid: they stand for the defaults.
func (o QueryOptions) Validate() error {
	bad := func(setting string, v any, want string) error {
		return &hardware.SettingError{Setting: setting, Value: v, Want: want}
	}
	switch {
	case o.ReplyTimeout < 0:
		return bad("reply_timeout", o.ReplyTimeout, `must be positive, e.g. "1s"`)
	case o.Retries < 0 || o.Retries > MaxRetries:
		return bad("retries", o.Retries, fmt.Sprintf("must be 0 to %d", MaxRetries))
	case o.PollInterval < 0:
		return bad("poll_interval", o.PollInterval, "must not be negative")
	}
	return nil
}

func (o QueryOptions) withDefaults() QueryOptions {
	if o.ReplyTimeout <= 0 {
		o.ReplyTimeout = time.Second
	}
	o.Retries = max(o.Retries, 0)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// queryDriver is the request/answer loop the Modbus, fixed-frame and line
// drivers share: send a request (if the module takes one), feed what
// arrives to a decoder, retry after a damaged or missing answer, and
// explain a failure from what did arrive.
type queryDriver struct {
	port io.ReadWriteCloser
	opts QueryOptions
	what string // the module, for messages: "Modbus module at address 64"
	hint string // what to check when nothing sensible arrives

	mu      sync.Mutex // one Read at a time; guards what follows
	buf     [256]byte
	lastReq time.Time

	closed atomic.Bool
}

// exchange sends req (nil: the module sends by itself) and returns the
// first reading dec decodes from the answer.
func (q *queryDriver) exchange(ctx context.Context, req []byte, dec decoder) (Reading, error) {
	if q.closed.Load() {
		return Reading{}, fmt.Errorf("thermometer: %w", serialport.ErrClosed)
	}
	before := dec.Stats()
	for attempt := 0; attempt <= q.opts.Retries; attempt++ {
		if err := q.pace(ctx); err != nil {
			return Reading{}, fmt.Errorf("read thermometer: %w", err)
		}
		// Anything already received answers an earlier question, or is
		// a frame from seconds ago in continuous mode.
		if r, ok := q.port.(interface{ ResetInputBuffer() error }); ok {
			if err := r.ResetInputBuffer(); err == nil {
				dec.Reset()
			}
		}
		if req != nil {
			if e, ok := dec.(interface{ ExpectEcho([]byte) }); ok {
				e.ExpectEcho(req)
			}
			if _, err := q.port.Write(req); err != nil {
				if q.closed.Load() {
					return Reading{}, fmt.Errorf("thermometer: %w", serialport.ErrClosed)
				}
				return Reading{}, fmt.Errorf("send request to thermometer: %w", err)
			}
			q.lastReq = time.Now()
		}
		r, err := q.await(ctx, dec)
		if err == nil {
			r.At = q.opts.Now()
			return r, nil
		}
		if !errors.Is(err, errAttemptTimedOut) {
			return Reading{}, err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return Reading{}, q.timeoutError(ctx, dec, before)
}

// errAttemptTimedOut ends one attempt with nothing usable.
var errAttemptTimedOut = errors.New("attempt timed out")

// await reads until dec yields a reading, an error, or the attempt's time
// is up. A damaged frame ends the attempt early, so a retry goes out at
// once rather than after the timeout.
func (q *queryDriver) await(ctx context.Context, dec decoder) (Reading, error) {
	wait, cancel := context.WithTimeout(ctx, q.opts.ReplyTimeout)
	defer cancel()
	for {
		if wait.Err() != nil {
			if err := ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				return Reading{}, fmt.Errorf("read thermometer: %w", err)
			}
			return Reading{}, errAttemptTimedOut
		}
		n, err := q.port.Read(q.buf[:])
		if n > 0 {
			bad := dec.Stats().BadChecksum
			r, ok, derr := dec.Feed(q.buf[:n])
			switch {
			case derr != nil:
				return Reading{}, fmt.Errorf("%s: %w", q.what, derr)
			case ok:
				return r, nil
			case dec.Stats().BadChecksum > bad:
				return Reading{}, errAttemptTimedOut
			}
		}
		if err != nil {
			if q.closed.Load() {
				return Reading{}, fmt.Errorf("thermometer: %w", serialport.ErrClosed)
			}
			return Reading{}, fmt.Errorf("read thermometer: %w", err)
		}
		// (0, nil) is the port's read timeout: no data yet.
	}
}

// pace waits until PollInterval has passed since the last request.
func (q *queryDriver) pace(ctx context.Context) error {
	if q.opts.PollInterval <= 0 || q.lastReq.IsZero() {
		return nil
	}
	d := time.Until(q.lastReq.Add(q.opts.PollInterval))
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// timeoutError explains a Read that got no reading, from what did arrive.
func (q *queryDriver) timeoutError(ctx context.Context, dec decoder, before Stats) error {
	if err := ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("read thermometer: %w", err)
	}
	after := dec.Stats()
	bad, garbage := after.BadChecksum-before.BadChecksum, after.Garbage-before.Garbage
	tries := q.opts.Retries + 1
	var err error
	switch {
	case bad > 0:
		err = fmt.Errorf("%w: %s: %d damaged answers and no good one in %d tries; check for a loose cable, electrical noise or a wrong baud rate", ErrChecksum, q.what, bad, tries)
	case garbage > 0:
		err = fmt.Errorf("%w: %s: received %d bytes that made no sense in %d tries; %s", ErrNoReply, q.what, garbage, tries, q.hint)
	default:
		err = fmt.Errorf("%w: %s: nothing received in %d tries of %v; %s", ErrNoReply, q.what, tries, q.opts.ReplyTimeout, q.hint)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", err, ctx.Err())
	}
	return err
}

func (q *queryDriver) close() error {
	if !q.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := q.port.Close(); err != nil {
		return fmt.Errorf("close thermometer: %w", err)
	}
	return nil
}
