package scanner

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultDuplicateWindow is how long a repeated code is taken for the same
// scan unless configured otherwise.
const DefaultDuplicateWindow = 2 * time.Second

// Deduper drops a code read again within a window of its last reading: a
// pass held in front of a scanner is one scan, however many times the
// scanner reads it. The window slides: each repeat restarts it, so the
// pass must be taken away for the window before it counts again.
type Deduper struct {
	s      Scanner
	window time.Duration
	now    func() time.Time

	mu     sync.Mutex // one Next at a time; guards last and lastAt
	last   string
	lastAt time.Time

	dups atomic.Uint64
}

var _ Scanner = (*Deduper)(nil)

// Dedupe wraps s. A window <= 0 means DefaultDuplicateWindow; now nil
// means time.Now.
func Dedupe(s Scanner, window time.Duration, now func() time.Time) *Deduper {
	if window <= 0 {
		window = DefaultDuplicateWindow
	}
	if now == nil {
		now = time.Now
	}
	return &Deduper{s: s, window: window, now: now}
}

// Next returns the next code that is not a repeat.
func (d *Deduper) Next(ctx context.Context) (Scan, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		sc, err := d.s.Next(ctx)
		if err != nil {
			return sc, err
		}
		t := d.now()
		if sc.Text == d.last && t.Sub(d.lastAt) < d.window {
			d.lastAt = t
			d.dups.Add(1)
			continue
		}
		d.last, d.lastAt = sc.Text, t
		return sc, nil
	}
}

// Stats returns the wrapped driver's counters, with the duplicates dropped.
func (d *Deduper) Stats() Stats {
	var st Stats
	if s, ok := d.s.(interface{ Stats() Stats }); ok {
		st = s.Stats()
	}
	st.Duplicates = d.dups.Load()
	return st
}

// Close closes the wrapped scanner.
func (d *Deduper) Close() error { return d.s.Close() }
