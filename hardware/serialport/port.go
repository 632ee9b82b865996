package serialport

import (
	"fmt"
	"io"
	"sync/atomic"

	"go.bug.st/serial"
)

// Port is an open serial port. Read, Write and Close may be called from
// different goroutines; Close unblocks a pending Read.
type Port struct {
	path   string
	port   serial.Port
	closed atomic.Bool
}

var _ io.ReadWriteCloser = (*Port)(nil)

// Open opens the serial port at path with cfg's line settings (zero fields
// take their defaults) and discards anything the device sent before we
// opened it, so that a reading or a scan is never stale.
//
// Modem lines (DTR, RTS, CTS…) are left alone: our devices do not use them
// and pseudo-terminals do not have them.
func Open(path string, cfg Config) (*Port, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("open serial port %s: %w", path, err)
	}
	cfg = cfg.WithDefaults()
	mode := &serial.Mode{
		BaudRate: cfg.Baud,
		DataBits: cfg.DataBits,
		Parity:   serial.NoParity,
		StopBits: serial.OneStopBit,
	}
	switch cfg.Parity {
	case ParityOdd:
		mode.Parity = serial.OddParity
	case ParityEven:
		mode.Parity = serial.EvenParity
	}
	if cfg.StopBits == 2 {
		mode.StopBits = serial.TwoStopBits
	}
	sp, err := serial.Open(path, mode)
	if err != nil {
		return nil, openError(path, err)
	}
	if err := sp.SetReadTimeout(cfg.ReadTimeout); err != nil {
		sp.Close()
		return nil, fmt.Errorf("open serial port %s: set read timeout: %w", path, err)
	}
	// A pseudo-terminal (and a ttyS port) keeps bytes that arrived while
	// nobody had it open: a restarted kiosk would otherwise read scans
	// and frames from before it started. Failing to flush is not worth
	// refusing the port over; drivers resynchronise on garbage anyway.
	_ = sp.ResetInputBuffer()
	return &Port{path: path, port: sp}, nil
}

// Path returns the path the port was opened with.
func (p *Port) Path() string { return p.path }

// Read reads what the device has sent, waiting at most the configured read
// timeout. When the timeout passes with nothing received it returns
// (0, nil): no data yet, call again. After Close it returns an error
// wrapping ErrClosed; if the device goes away it returns one wrapping
// ErrGone.
func (p *Port) Read(b []byte) (int, error) {
	if p.closed.Load() {
		return 0, fmt.Errorf("read serial port %s: %w", p.path, ErrClosed)
	}
	n, err := p.port.Read(b)
	if err != nil {
		if p.closed.Load() {
			return n, fmt.Errorf("read serial port %s: %w", p.path, ErrClosed)
		}
		return n, ioError("read", p.path, err)
	}
	return n, nil
}

// Write sends b to the device.
func (p *Port) Write(b []byte) (int, error) {
	if p.closed.Load() {
		return 0, fmt.Errorf("write serial port %s: %w", p.path, ErrClosed)
	}
	n, err := p.port.Write(b)
	if err != nil {
		if p.closed.Load() {
			return n, fmt.Errorf("write serial port %s: %w", p.path, ErrClosed)
		}
		return n, ioError("write", p.path, err)
	}
	return n, nil
}

// ResetInputBuffer discards bytes received but not yet read. Drivers call
// it before a request so the answer they read is the answer to it.
func (p *Port) ResetInputBuffer() error {
	if p.closed.Load() {
		return fmt.Errorf("flush serial port %s: %w", p.path, ErrClosed)
	}
	if err := p.port.ResetInputBuffer(); err != nil {
		return fmt.Errorf("flush serial port %s: %w", p.path, err)
	}
	return nil
}

// Close closes the port and unblocks a pending Read, which then returns an
// error wrapping ErrClosed. Closing twice is harmless.
func (p *Port) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := p.port.Close(); err != nil {
		return fmt.Errorf("close serial port %s: %w", p.path, err)
	}
	return nil
}
