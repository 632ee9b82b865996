package sim

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
)

var errClosed = errors.New("simulator closed")

// ScannerOptions configures a simulated serial code scanner.
type ScannerOptions struct {
	// Terminator ends every code Send writes: "\r\n" (the default), "\r"
	// or "\n", as the scanner is set up.
	Terminator string
	// AIM, if set, is the symbology identifier sent before every code,
	// e.g. "]Q1" for QR.
	AIM string
	// Trigger, if set, puts the scanner in serial trigger mode: codes
	// given to Send wait until a driver sends these bytes (e.g. 16 54 0D
	// for Honeywell, "T" for ZKTeco); a trigger with no code waiting is
	// answered with NoRead, if set.
	Trigger []byte
	NoRead  string
}

// Scanner is a simulated code scanner in serial (CDC) mode on a
// pseudo-terminal: each scan arrives as the code followed by a terminator.
type Scanner struct {
	pty  *ptyPair
	opts ScannerOptions

	writeMu sync.Mutex // keeps codes from interleaving

	recvMu   sync.Mutex
	received []byte   // what drivers sent (trigger commands), the last 4 KiB
	queued   []string // trigger mode: codes waiting for a trigger
	window   []byte   // trigger mode: bytes since the last trigger

	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// NewScanner starts a simulated scanner. Close it when done.
func NewScanner(opts ScannerOptions) (*Scanner, error) {
	if opts.Terminator == "" {
		opts.Terminator = "\r\n"
	}
	p, err := openPTY()
	if err != nil {
		return nil, err
	}
	s := &Scanner{pty: p, opts: opts, done: make(chan struct{})}
	s.wg.Add(1)
	go s.drain()
	return s, nil
}

// Path returns the pseudo-terminal to open with the real driver.
func (s *Scanner) Path() string { return s.pty.path }

// Send writes one scan: the AIM prefix if set, code, the terminator. It
// blocks while the pseudo-terminal's buffer is full, that is until a
// driver reads. In trigger mode the code waits for the next trigger.
func (s *Scanner) Send(code string) error {
	if len(s.opts.Trigger) > 0 {
		s.recvMu.Lock()
		s.queued = append(s.queued, code)
		s.recvMu.Unlock()
		return nil
	}
	return s.SendRaw([]byte(s.opts.AIM + code + s.opts.Terminator))
}

// SendRaw writes p as it is, for faults a well-behaved scanner would not
// produce: split terminators, invalid UTF-8, codes without an end.
func (s *Scanner) SendRaw(p []byte) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	select {
	case <-s.done:
		return fmt.Errorf("scanner %s: %w", s.pty.path, errClosed)
	default:
	}
	if _, err := s.pty.leader.Write(p); err != nil {
		return fmt.Errorf("scanner %s: send: %w", s.pty.path, err)
	}
	return nil
}

// ReleaseExclusive clears the exclusive-open flag that a killed driver
// leaves on the pseudo-terminal; see Thermometer.ReleaseExclusive.
func (s *Scanner) ReleaseExclusive() error { return s.pty.releaseExclusive() }

// Close stops the simulator and removes its pseudo-terminal.
func (s *Scanner) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.closeErr = s.pty.close()
		s.wg.Wait()
	})
	return s.closeErr
}

// Received returns what drivers have sent to the scanner (trigger
// commands), up to the last 4 KiB.
func (s *Scanner) Received() []byte {
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	return append([]byte(nil), s.received...)
}

// drain keeps what drivers send, for Received.
func (s *Scanner) drain() {
	defer s.wg.Done()
	buf := make([]byte, 64)
	for {
		n, err := s.pty.leader.Read(buf)
		for _, b := range buf[:n] {
			s.recvMu.Lock()
			s.received = append(s.received, b)
			if over := len(s.received) - 4096; over > 0 {
				s.received = s.received[over:]
			}
			var reply []byte
			if t := s.opts.Trigger; len(t) > 0 {
				s.window = append(s.window, b)
				if len(s.window) > 64 {
					s.window = s.window[len(s.window)-64:]
				}
			}
			if t := s.opts.Trigger; len(t) > 0 && bytes.HasSuffix(s.window, t) {
				switch {
				case len(s.queued) > 0:
					reply = []byte(s.opts.AIM + s.queued[0] + s.opts.Terminator)
					s.queued = s.queued[1:]
				case s.opts.NoRead != "":
					reply = []byte(s.opts.NoRead + s.opts.Terminator)
				}
				s.window = s.window[:0] // its bytes never count twice
			}
			s.recvMu.Unlock()
			if reply != nil {
				s.SendRaw(reply)
			}
		}
		if err != nil {
			return
		}
	}
}
