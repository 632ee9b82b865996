package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatepost/gatepost/hardware/serialport"
)

func errTooLongHID(max int) error {
	return fmt.Errorf("%w: more than the %d allowed before Enter; check the scanner ends each code with Enter", ErrTooLong, max)
}

// HIDOptions configures an HID keyboard-mode driver.
type HIDOptions struct {
	MaxLength int              // longest code; 0 means DefaultMaxLength
	Now       func() time.Time // stamps scans; nil means time.Now
	StripAIM  bool
}

// HID reads a scanner in HID keyboard mode from its evdev node.
type HID struct {
	f    io.ReadCloser
	now  func() time.Time
	opts HIDOptions

	mu    sync.Mutex
	dec   *KeyDecoder
	ready []Line
	buf   [inputEventSize * 32]byte

	codes  atomic.Uint64
	closed atomic.Bool
}

var _ Scanner = (*HID)(nil)

// NewHID returns a driver reading input events from f (an evdev node, or
// in tests a pipe). If f has SetReadDeadline (an *os.File on a pollable
// descriptor does), Next honours ctx while waiting; otherwise only Close
// ends a wait. The driver owns f.
func NewHID(f io.ReadCloser, opts HIDOptions) *HID {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &HID{f: f, now: opts.Now, opts: opts, dec: NewKeyDecoder(opts.MaxLength)}
}

// Next returns the next code, ending with Enter.
func (h *HID) Next(ctx context.Context) (Scan, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	dl, canDeadline := h.f.(interface{ SetReadDeadline(time.Time) error })
	for {
		if err := ctx.Err(); err != nil {
			return Scan{}, fmt.Errorf("wait for scan: %w", err)
		}
		if len(h.ready) > 0 {
			l := h.ready[0]
			h.ready = h.ready[1:]
			if l.Err != nil {
				return Scan{}, fmt.Errorf("scanner: %w", l.Err)
			}
			text := l.Text
			if h.opts.StripAIM {
				text = stripAIM(text)
			}
			h.codes.Add(1)
			return Scan{Text: text, At: h.now()}, nil
		}
		if h.closed.Load() {
			return Scan{}, fmt.Errorf("scanner: %w", serialport.ErrClosed)
		}
		if canDeadline {
			dl.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		}
		n, err := h.f.Read(h.buf[:])
		h.ready = h.dec.Feed(h.ready[:0], h.buf[:n])
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue // our own read timeout: check ctx
			}
			if h.closed.Load() {
				return Scan{}, fmt.Errorf("scanner: %w", serialport.ErrClosed)
			}
			// Unplugging the scanner ends the node's stream (ENODEV).
			return Scan{}, fmt.Errorf("read scanner: %w: %w", serialport.ErrGone, err)
		}
	}
}

// Stats returns the codes delivered.
func (h *HID) Stats() Stats { return Stats{Codes: h.codes.Load()} }

// Close closes the node, releasing the grab, and ends a Next in progress.
func (h *HID) Close() error {
	if !h.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := h.f.Close(); err != nil {
		return fmt.Errorf("close scanner: %w", err)
	}
	return nil
}
