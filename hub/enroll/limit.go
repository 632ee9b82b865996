package enroll

import (
	"sync"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
)

// limiter counts refused requests per client address and blocks an
// address that has had max of them within window. Only refusals count: a
// kiosk enrolling normally is never slowed.
type limiter struct {
	mu     sync.Mutex
	clock  clock.Clock
	max    int
	window time.Duration
	fails  map[string]*record
}

type record struct {
	times  []time.Time
	warned bool // the address's first 429 of this block was logged
}

// maxAddresses bounds the table; beyond it the oldest records go first
// when they have aged out, so memory stays bounded under a spray of
// addresses.
const maxAddresses = 4096

func newLimiter(c clock.Clock, max int, window time.Duration) *limiter {
	return &limiter{clock: c, max: max, window: window, fails: map[string]*record{}}
}

// blocked reports whether ip is blocked now, and whether this is the
// first refusal of the block (to log once, not per request).
func (l *limiter) blocked(ip string) (blocked, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.fails[ip]
	if r == nil {
		return false, false
	}
	r.times = l.recent(r.times)
	if len(r.times) == 0 {
		delete(l.fails, ip)
		return false, false
	}
	if len(r.times) < l.max {
		r.warned = false
		return false, false
	}
	first = !r.warned
	r.warned = true
	return true, first
}

func (l *limiter) fail(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) >= maxAddresses && l.fails[ip] == nil {
		for k, r := range l.fails {
			if r.times = l.recent(r.times); len(r.times) == 0 {
				delete(l.fails, k)
			}
		}
		if len(l.fails) >= maxAddresses {
			l.fails = map[string]*record{} // a spray from that many addresses: start over rather than grow
		}
	}
	r := l.fails[ip]
	if r == nil {
		r = &record{}
		l.fails[ip] = r
	}
	r.times = append(l.recent(r.times), l.clock.Now())
}

func (l *limiter) recent(ts []time.Time) []time.Time {
	cutoff := l.clock.Now().Add(-l.window)
	i := 0
	for i < len(ts) && !ts[i].After(cutoff) {
		i++
	}
	return ts[i:]
}
