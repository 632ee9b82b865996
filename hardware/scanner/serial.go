package scanner

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatepost/gatepost/hardware/serialport"
)

// SerialOptions configures a Serial driver. Zero fields take defaults.
type SerialOptions struct {
	MaxLength int              // longest code accepted; 0 means DefaultMaxLength
	Now       func() time.Time // stamps scans and times gaps; nil means time.Now
	// StripAIM removes an AIM identifier prefix (]Q1 …) from each code.
	StripAIM bool
	// NoRead are replies that mean "nothing read" and are ignored, e.g.
	// DefaultNoRead().
	NoRead []string
	// IdleGap ends a code when no byte has arrived for this long, for
	// scanners that send no terminator; 0 means codes end only with CR
	// or LF. It is checked at each read timeout of the port, so it takes
	// effect up to one read timeout late.
	IdleGap time.Duration
	// Trigger, if set, is sent before waiting for a code (serial trigger
	// mode); its Stop is sent on Close.
	Trigger *Trigger
}

// Serial drives a scanner in serial (CDC) mode, which sends each code
// followed by CR, LF or CRLF.
type Serial struct {
	port io.ReadWriteCloser
	now  func() time.Time
	opts SerialOptions

	mu      sync.Mutex // one Next at a time; guards what follows
	split   *LineSplitter
	ready   []Line    // completed lines not yet returned
	at      time.Time // when they arrived
	readErr error     // a read error to return once ready is empty
	buf     [512]byte
	lastIn  time.Time // when the last byte arrived
	armed   time.Time // when the trigger was last sent; zero: not armed

	noRead atomic.Uint64

	closed atomic.Bool
}

var _ Scanner = (*Serial)(nil)

// NewSerial returns a driver for the scanner on port. The driver owns port
// and closes it on Close.
func NewSerial(port io.ReadWriteCloser, opts SerialOptions) *Serial {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Trigger != nil {
		t := *opts.Trigger
		t.Start, t.Stop = cloneBytes(t.Start), cloneBytes(t.Stop)
		if t.Every <= 0 {
			t.Every = 3 * time.Second
		}
		opts.Trigger = &t
	}
	return &Serial{port: port, now: opts.Now, opts: opts, split: NewLineSplitter(opts.MaxLength)}
}

// OpenSerial opens the serial port at path at baud (0 means 9600) 8N1 and
// returns a driver for the scanner on it.
func OpenSerial(path string, baud int, opts SerialOptions) (*Serial, error) {
	p, err := serialport.Open(path, serialport.Config{Baud: baud})
	if err != nil {
		return nil, fmt.Errorf("scanner: %w", err)
	}
	return NewSerial(p, opts), nil
}

// Next returns the next code, waiting until one arrives or ctx is done.
// A line that is too long or not UTF-8 yields an error wrapping ErrTooLong
// or ErrInvalidUTF8; the driver keeps working, so call Next again.
//
// Next notices ctx only between reads of the port, so the port's read
// timeout (100 ms for a serialport.Port) bounds how late it returns.
func (s *Serial) Next(ctx context.Context) (Scan, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return Scan{}, fmt.Errorf("wait for scan: %w", err)
		}
		if len(s.ready) > 0 {
			l := s.ready[0]
			s.ready = s.ready[1:]
			s.armed = time.Time{} // the attempt ended: trigger again next time
			if l.Err != nil {
				return Scan{}, fmt.Errorf("scanner: %w", l.Err)
			}
			text := l.Text
			if s.opts.StripAIM {
				text = stripAIM(text)
			}
			if isNoRead(text, s.opts.NoRead) || text == "" {
				s.noRead.Add(1)
				continue
			}
			return Scan{Text: text, At: s.at}, nil
		}
		if err := s.readErr; err != nil {
			s.readErr = nil
			return Scan{}, err
		}
		if s.closed.Load() {
			return Scan{}, fmt.Errorf("scanner: %w", serialport.ErrClosed)
		}
		if err := s.trigger(); err != nil {
			return Scan{}, err
		}
		n, err := s.port.Read(s.buf[:])
		if n > 0 {
			// Lines from one read share its time. ready is empty here
			// and one read holds at most len(buf)/2 lines, so it stays
			// small.
			s.ready = s.split.Feed(s.ready[:0], s.buf[:n])
			s.at = s.now()
			s.lastIn = s.at
		} else if err == nil && s.opts.IdleGap > 0 && s.split.Pending() && s.now().Sub(s.lastIn) >= s.opts.IdleGap {
			s.ready = s.split.Flush(s.ready[:0])
			s.at = s.lastIn
		}
		if err != nil {
			if s.closed.Load() {
				return Scan{}, fmt.Errorf("scanner: %w", serialport.ErrClosed)
			}
			err = fmt.Errorf("read scanner: %w", err)
			if len(s.ready) > 0 {
				s.readErr = err // after the codes that came before it
				continue
			}
			return Scan{}, err
		}
		// (0, nil) is the port's read timeout: no data yet.
	}
}

// trigger sends the trigger's start command if the scanner is not armed,
// or has been armed for Every without reading anything.
func (s *Serial) trigger() error {
	t := s.opts.Trigger
	if t == nil || len(t.Start) == 0 {
		return nil
	}
	now := s.now()
	if !s.armed.IsZero() && now.Sub(s.armed) < t.Every {
		return nil
	}
	if _, err := s.port.Write(t.Start); err != nil {
		if s.closed.Load() {
			return fmt.Errorf("scanner: %w", serialport.ErrClosed)
		}
		return fmt.Errorf("trigger scanner: %w", err)
	}
	s.armed = now
	return nil
}

// Stats returns what the driver has received so far. It is safe to call
// while Next is waiting.
func (s *Serial) Stats() Stats {
	st := s.split.Stats()
	st.NoRead = s.noRead.Load()
	return st
}

// Close closes the port, which ends a Next in progress. Closing twice is
// harmless.
func (s *Serial) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	if t := s.opts.Trigger; t != nil && len(t.Stop) > 0 {
		s.port.Write(t.Stop) // best effort: the device may be gone
	}
	if err := s.port.Close(); err != nil {
		return fmt.Errorf("close scanner: %w", err)
	}
	return nil
}
