package scanner

import (
	"bytes"
	"fmt"
	"sync/atomic"
	"unicode/utf8"
)

// DefaultMaxLength is the longest code accepted unless configured
// otherwise; a QR code holds at most 2953 bytes, so longer is a fault.
const DefaultMaxLength = 4096

// Line is one line cut from a scanner's byte stream: a code, or the reason
// there is none.
type Line struct {
	Text string
	Err  error // wraps ErrTooLong or ErrInvalidUTF8; Text is then empty
}

// LineSplitter cuts a byte stream into codes ending in CR, LF or CRLF. It
// is fed chunks as they are read, however they are split.
//
// Empty lines are ignored, which is also what makes CRLF a single
// terminator, even when the CR ends one read and the LF starts the next.
// A line longer than the maximum is discarded up to its terminator and
// reported once, as a Line wrapping ErrTooLong; a line that is not UTF-8
// is reported as one wrapping ErrInvalidUTF8. Memory is bounded by the
// maximum length.
//
// Feed must not be called concurrently; Stats may be.
type LineSplitter struct {
	max     int
	buf     []byte
	tooLong int // bytes in the current line once it exceeds max, else 0

	codes, tooLongs, invalid atomic.Uint64
}

// NewLineSplitter returns a splitter accepting codes of up to max bytes;
// max <= 0 means DefaultMaxLength.
func NewLineSplitter(max int) *LineSplitter {
	if max <= 0 {
		max = DefaultMaxLength
	}
	return &LineSplitter{max: max}
}

// Feed splits p and appends every line it completes to dst.
func (s *LineSplitter) Feed(dst []Line, p []byte) []Line {
	for len(p) > 0 {
		i := bytes.IndexAny(p, "\r\n")
		if i < 0 {
			s.add(p)
			break
		}
		s.add(p[:i])
		dst = s.end(dst)
		p = p[i+1:]
	}
	return dst
}

func (s *LineSplitter) add(p []byte) {
	switch {
	case s.tooLong > 0:
		s.tooLong += len(p)
	case len(s.buf)+len(p) > s.max:
		s.tooLong = len(s.buf) + len(p)
		s.buf = s.buf[:0]
	default:
		s.buf = append(s.buf, p...)
	}
}

func (s *LineSplitter) end(dst []Line) []Line {
	defer func() { s.buf, s.tooLong = s.buf[:0], 0 }()
	switch {
	case s.tooLong > 0:
		s.tooLongs.Add(1)
		return append(dst, Line{Err: fmt.Errorf("%w: %d bytes, more than the %d allowed; check the scanner ends each code with CR or LF", ErrTooLong, s.tooLong, s.max)})
	case len(s.buf) == 0:
		return dst
	case !utf8.Valid(s.buf):
		s.invalid.Add(1)
		return append(dst, Line{Err: fmt.Errorf("%w: check the scanner's baud rate and character set", ErrInvalidUTF8)})
	default:
		s.codes.Add(1)
		return append(dst, Line{Text: string(s.buf)})
	}
}

// Pending reports whether part of a line has been received.
func (s *LineSplitter) Pending() bool { return len(s.buf) > 0 || s.tooLong > 0 }

// Flush ends the line in progress as if its terminator had arrived, for
// scanners that end a code with a pause rather than a character.
func (s *LineSplitter) Flush(dst []Line) []Line {
	if !s.Pending() {
		return dst
	}
	return s.end(dst)
}

// Stats returns what the splitter has seen so far.
func (s *LineSplitter) Stats() Stats {
	return Stats{Codes: s.codes.Load(), TooLong: s.tooLongs.Load(), InvalidUTF8: s.invalid.Load()}
}
