package thermometer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/gatepost/gatepost/hardware/serialport"
)

// FrameDecoder cuts a byte stream into frames of a FrameProfile, however
// the stream is split into reads: it resynchronises on the header after
// garbage, drops and counts frames failing their checksum (looking for a
// header inside the rejected bytes), and holds at most one partial frame.
//
// Feed must not be called concurrently; Stats may be.
type FrameDecoder struct {
	p       FrameProfile
	pending []byte

	frames, badChecksum, garbage atomic.Uint64
}

// NewFrameDecoder returns a decoder for p, which must be valid.
func NewFrameDecoder(p FrameProfile) (*FrameDecoder, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &FrameDecoder{p: p, pending: make([]byte, 0, p.Length)}, nil
}

// FeedAll decodes p and appends the reading of every complete valid frame
// to dst.
func (d *FrameDecoder) FeedAll(dst []Reading, p []byte) []Reading {
	for _, b := range p {
		d.pending = append(d.pending, b)
		if f := d.settle(); f != nil {
			dst = append(dst, d.p.reading(f))
			d.pending = d.pending[:0]
		}
	}
	return dst
}

// Feed decodes p up to the first complete valid frame and returns its
// reading; the bytes after it are dropped, as they answer no question.
func (d *FrameDecoder) Feed(p []byte) (Reading, bool, error) {
	for _, b := range p {
		d.pending = append(d.pending, b)
		if f := d.settle(); f != nil {
			r := d.p.reading(f)
			d.pending = d.pending[:0]
			return r, true, nil
		}
	}
	return Reading{}, false, nil
}

// settle consumes pending bytes until what remains could begin a frame,
// and returns the frame when one is complete and valid.
func (d *FrameDecoder) settle() []byte {
	for len(d.pending) > 0 {
		if !d.headerSoFar(d.pending) {
			d.drop(1)
			d.garbage.Add(1)
			continue
		}
		if len(d.pending) < d.p.Length {
			return nil
		}
		if d.p.checksumOK(d.pending) {
			d.frames.Add(1)
			return d.pending
		}
		d.badChecksum.Add(1)
		skip := 1
		for skip < len(d.pending) && !d.headerSoFar(d.pending[skip:]) {
			skip++
		}
		d.drop(skip)
	}
	return nil
}

func (d *FrameDecoder) headerSoFar(p []byte) bool {
	n := min(len(p), len(d.p.Header))
	return bytes.Equal(p[:n], d.p.Header[:n])
}

func (d *FrameDecoder) drop(k int) {
	n := copy(d.pending, d.pending[k:])
	d.pending = d.pending[:n]
}

// Reset forgets a partly received frame. Counters are kept.
func (d *FrameDecoder) Reset() { d.pending = d.pending[:0] }

// Stats returns what the decoder has seen so far.
func (d *FrameDecoder) Stats() Stats {
	return Stats{Frames: d.frames.Load(), BadChecksum: d.badChecksum.Load(), Garbage: d.garbage.Load()}
}

// Framed drives a module whose frames a FrameProfile describes.
type Framed struct {
	q   queryDriver
	p   FrameProfile
	dec *FrameDecoder
}

var _ Thermometer = (*Framed)(nil)

// NewFramed returns a driver for the module on port. The driver owns port
// and closes it on Close.
func NewFramed(port io.ReadWriteCloser, p FrameProfile, opts QueryOptions) (*Framed, error) {
	dec, err := NewFrameDecoder(p)
	if err != nil {
		return nil, fmt.Errorf("thermometer: %w", err)
	}
	f := &Framed{p: p, dec: dec}
	f.q = queryDriver{
		port: port, opts: opts.withDefaults(),
		what: fmt.Sprintf("%s module", p.Name),
		hint: fmt.Sprintf("check the cable, that the module is a %s and the baud rate (usually %d)", p.Name, p.Baud),
	}
	return f, nil
}

// OpenFramed opens the serial port at path (at the profile's baud rate
// when line.Baud is 0) and returns a driver for the module on it.
func OpenFramed(path string, line serialport.Config, p FrameProfile, opts QueryOptions) (*Framed, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("thermometer: %w", err)
	}
	if line.Baud == 0 {
		line.Baud = p.Baud
	}
	port, err := serialport.Open(path, line)
	if err != nil {
		return nil, fmt.Errorf("thermometer: %w", err)
	}
	return NewFramed(port, p, opts)
}

// Read sends the profile's query (if any) and returns the next valid frame.
func (f *Framed) Read(ctx context.Context) (Reading, error) {
	f.q.mu.Lock()
	defer f.q.mu.Unlock()
	var req []byte
	if len(f.p.Query) > 0 {
		req = f.p.Query
	}
	return f.q.exchange(ctx, req, f.dec)
}

// Stats returns what the driver has received so far.
func (f *Framed) Stats() Stats { return f.dec.Stats() }

// Close closes the port, which ends a Read in progress.
func (f *Framed) Close() error { return f.q.close() }
