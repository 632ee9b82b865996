package thermometer

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"sync/atomic"

	"github.com/gatepost/gatepost/hardware/serialport"
)

// maxLine bounds a module's line: longer lines are garbage.
const maxLine = 256

// LineDecoder reads one reading per text line (ending in CR, LF or CRLF)
// with a regular expression whose named groups hold the values: object,
// ambient, body, distance (cm). A line that does not match, or whose
// values are not numbers, is counted as garbage.
type LineDecoder struct {
	re    *regexp.Regexp
	names map[string]int
	line  []byte
	long  bool // the current line overflowed maxLine

	frames, garbage atomic.Uint64
}

// NewLineDecoder compiles pattern, which must have a group named object
// or body.
func NewLineDecoder(pattern string) (*LineDecoder, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("line pattern: %w", err)
	}
	d := &LineDecoder{re: re, names: map[string]int{}}
	for i, n := range re.SubexpNames() {
		switch n {
		case "object", "ambient", "body", "distance":
			d.names[n] = i
		case "":
		default:
			return nil, fmt.Errorf("line pattern: group %q: groups must be named object, ambient, body or distance", n)
		}
	}
	if _, ok := d.names["object"]; !ok {
		if _, ok := d.names["body"]; !ok {
			return nil, fmt.Errorf("line pattern %q: needs a group (?P<object>…) or (?P<body>…)", pattern)
		}
	}
	return d, nil
}

// Feed returns the reading of the first good line p completes.
func (d *LineDecoder) Feed(p []byte) (Reading, bool, error) {
	for _, b := range p {
		if b != '\r' && b != '\n' {
			if len(d.line) < maxLine {
				d.line = append(d.line, b)
			} else {
				d.long = true
			}
			continue
		}
		if len(d.line) == 0 && !d.long {
			continue
		}
		r, ok := d.parse()
		if !ok {
			d.garbage.Add(uint64(len(d.line)))
		}
		d.line, d.long = d.line[:0], false
		if ok {
			d.frames.Add(1)
			return r, true, nil
		}
	}
	return Reading{}, false, nil
}

func (d *LineDecoder) parse() (Reading, bool) {
	if d.long {
		return Reading{}, false
	}
	m := d.re.FindSubmatch(d.line)
	if m == nil {
		return Reading{}, false
	}
	get := func(name string) (float64, bool, bool) {
		i, ok := d.names[name]
		if !ok || m[i] == nil {
			return 0, false, true
		}
		v, err := strconv.ParseFloat(string(m[i]), 64)
		if err != nil || v != v {
			return 0, false, false
		}
		return v, true, true
	}
	var r Reading
	var ok, hasObject bool
	if r.Object, hasObject, ok = get("object"); !ok {
		return Reading{}, false
	}
	if r.Ambient, r.HasAmbient, ok = get("ambient"); !ok {
		return Reading{}, false
	}
	if r.Body, r.HasBody, ok = get("body"); !ok {
		return Reading{}, false
	}
	if r.Distance, r.HasDistance, ok = get("distance"); !ok {
		return Reading{}, false
	}
	if !hasObject {
		if !r.HasBody {
			return Reading{}, false
		}
		// The protocol needs an object temperature; a module that
		// gives only a compensated one reports that.
		r.Object = r.Body
	}
	return r, true
}

// Reset forgets a partly received line.
func (d *LineDecoder) Reset() { d.line, d.long = d.line[:0], false }

// Stats returns what the decoder has seen so far.
func (d *LineDecoder) Stats() Stats {
	return Stats{Frames: d.frames.Load(), Garbage: d.garbage.Load()}
}

// LineOptions configures an ASCII line module.
type LineOptions struct {
	// Pattern finds the values in a line; see LineDecoder.
	Pattern string
	// Query is sent before each Read; empty means the module sends lines
	// by itself.
	Query string
	QueryOptions
}

// Line drives an ASCII module that sends one reading per line.
type Line struct {
	q     queryDriver
	query []byte
	dec   *LineDecoder
}

var _ Thermometer = (*Line)(nil)

// NewLine returns a driver for the module on port. The driver owns port
// and closes it on Close.
func NewLine(port io.ReadWriteCloser, opts LineOptions) (*Line, error) {
	dec, err := NewLineDecoder(opts.Pattern)
	if err != nil {
		return nil, fmt.Errorf("thermometer: %w", err)
	}
	l := &Line{dec: dec}
	if opts.Query != "" {
		l.query = []byte(opts.Query)
	}
	l.q = queryDriver{
		port: port, opts: opts.QueryOptions.withDefaults(),
		what: "line module",
		hint: "check the baud rate and that the pattern matches what the module sends (try kiosk probe)",
	}
	return l, nil
}

// OpenLine opens the serial port at path and returns a driver for the
// module on it.
func OpenLine(path string, line serialport.Config, opts LineOptions) (*Line, error) {
	if _, err := NewLineDecoder(opts.Pattern); err != nil {
		return nil, fmt.Errorf("thermometer: %w", err)
	}
	p, err := serialport.Open(path, line)
	if err != nil {
		return nil, fmt.Errorf("thermometer: %w", err)
	}
	return NewLine(p, opts)
}

// Read sends the query (if any) and returns the next line that matches.
func (l *Line) Read(ctx context.Context) (Reading, error) {
	l.q.mu.Lock()
	defer l.q.mu.Unlock()
	return l.q.exchange(ctx, l.query, l.dec)
}

// Stats returns what the driver has received so far.
func (l *Line) Stats() Stats { return l.dec.Stats() }

// Close closes the port, which ends a Read in progress.
func (l *Line) Close() error { return l.q.close() }
