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
	Now       func() time.Time // stamps scans; nil means time.Now
}

// Serial drives a scanner in serial (CDC) mode, which sends each code
// followed by CR, LF or CRLF.
type Serial struct {
	port io.ReadWriteCloser
	now  func() time.Time

	mu      sync.Mutex // one Next at a time; guards what follows
	split   *LineSplitter
	ready   []Line    // completed lines not yet returned
	at      time.Time // when they arrived
	readErr error     // a read error to return once ready is empty
	buf     [512]byte

	closed atomic.Bool
}

var _ Scanner = (*Serial)(nil)

// NewSerial returns a driver for the scanner on port. The driver owns port
// and closes it on Close.
func NewSerial(port io.ReadWriteCloser, opts SerialOptions) *Serial {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Serial{port: port, now: opts.Now, split: NewLineSplitter(opts.MaxLength)}
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
			if l.Err != nil {
				return Scan{}, fmt.Errorf("scanner: %w", l.Err)
			}
			return Scan{Text: l.Text, At: s.at}, nil
		}
		if err := s.readErr; err != nil {
			s.readErr = nil
			return Scan{}, err
		}
		if s.closed.Load() {
			return Scan{}, fmt.Errorf("scanner: %w", serialport.ErrClosed)
		}
		n, err := s.port.Read(s.buf[:])
		if n > 0 {
			// Lines from one read share its time. ready is empty here
			// and one read holds at most len(buf)/2 lines, so it stays
			// small.
			s.ready = s.split.Feed(s.ready[:0], s.buf[:n])
			s.at = s.now()
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

// Stats returns what the driver has received so far. It is safe to call
// while Next is waiting.
func (s *Serial) Stats() Stats { return s.split.Stats() }

// Close closes the port, which ends a Next in progress. Closing twice is
// harmless.
func (s *Serial) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := s.port.Close(); err != nil {
		return fmt.Errorf("close scanner: %w", err)
	}
	return nil
}
