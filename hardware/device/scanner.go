package device

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gatepost/gatepost/hardware/scanner"
	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/gatepost/gatepost/internal/backoff"
)

// ErrBadCode is a code the scanner read but that cannot be a pass: too
// long, or not text. The scanner itself is fine.
var ErrBadCode = errors.New("unreadable code")

// Scanner keeps a code scanner open: opened at once (opening discards
// what the port had buffered, so open it before saying the gate is
// ready), and reopened with back-off by Next when it is lost.
type Scanner struct {
	port     string
	settings scanner.Settings
	opts     Options

	// Only Next's goroutine uses these.
	b    *backoff.Backoff
	wait time.Duration // before the next open; 0: open at once

	mu  sync.Mutex // guards what follows
	dev scanner.Scanner
	st  status
}

// OpenScanner opens the scanner at port (for the serial driver a path, a
// by-id name or usb:VID:PID; for hid the event node; ignored for stdin)
// and keeps it open until Close. A scanner that is not there is no
// error: it shows as disconnected and Next retries it.
func OpenScanner(port string, s scanner.Settings, o Options) *Scanner {
	sc := &Scanner{port: port, settings: s, opts: o.orDefaults()}
	sc.b = sc.opts.backoff()
	sc.st.Status = Status{Name: NameScanner, State: StateDisconnected, Port: port}
	sc.open()
	return sc
}

// Status is the scanner's state now.
func (s *Scanner) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Status
}

func (s *Scanner) setState(state, detail string) {
	s.mu.Lock()
	changed := s.st.set(state, detail)
	s.mu.Unlock()
	if changed {
		s.opts.OnChange()
	}
}

func (s *Scanner) open() (scanner.Scanner, error) {
	path := s.port
	var err error
	if s.settings.Driver == "serial" {
		path, err = serialport.Resolve(s.port)
	}
	var dev scanner.Scanner
	if err == nil {
		dev, err = scanner.Open(path, s.settings)
	}
	if err != nil {
		s.wait = s.b.Next()
		s.opts.Log.Warn("scanner unavailable", "port", s.port, "err", err, "retry_in", s.wait)
		s.setState(StateOf(err), err.Error())
		return nil, err
	}
	s.b.Reset()
	s.wait = 0
	s.mu.Lock()
	s.dev = dev
	s.mu.Unlock()
	s.setState(StateConnected, "")
	s.opts.Log.Info("scanner open", "port", path)
	return dev, nil
}

// Next waits for the next code, opening or reopening the scanner as
// needed. It returns ErrBadCode for a code that cannot be a pass, and
// another error to let the caller show that the scanner is gone; call it
// again to go on trying, until ctx is done. Call it from one goroutine.
func (s *Scanner) Next(ctx context.Context) (scanner.Scan, error) {
	s.mu.Lock()
	dev := s.dev
	s.mu.Unlock()
	if dev == nil {
		if s.wait > 0 {
			if err := backoff.Sleep(ctx, s.opts.Clock, s.wait); err != nil {
				return scanner.Scan{}, err
			}
		}
		var err error
		if dev, err = s.open(); err != nil {
			return scanner.Scan{}, err
		}
	}
	scan, err := dev.Next(ctx)
	if errors.Is(err, scanner.ErrTooLong) || errors.Is(err, scanner.ErrInvalidUTF8) {
		// A bad code, not a bad scanner: keep the driver.
		s.opts.Log.Warn("unreadable code ignored", "port", s.port, "err", err)
		return scanner.Scan{}, ErrBadCode
	}
	if err != nil && ctx.Err() == nil {
		s.opts.Log.Warn("scanner lost; reopening", "port", s.port, "err", err)
		s.mu.Lock()
		s.dev = nil
		s.mu.Unlock()
		dev.Close()
		s.setState(StateOf(err), err.Error())
		s.b.Reset()
		s.wait = s.b.Next()
	}
	return scan, err
}

// Close closes the device. Next must have returned.
func (s *Scanner) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dev != nil {
		err := s.dev.Close()
		s.dev = nil
		return err
	}
	return nil
}
