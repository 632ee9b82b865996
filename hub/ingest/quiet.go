package ingest

import (
	"sync"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
)

// quiet lets at most one log line per key (a kiosk and a reason) through
// per window, so a flood of refused messages writes a line a minute, not
// a line a message. The counters on /metrics count every refusal; the log
// says who and why.
type quiet struct {
	window time.Duration
	clock  clock.Clock

	mu   sync.Mutex
	keys map[quietKey]*quietState
}

type quietKey struct{ kiosk, reason string }

type quietState struct {
	next       time.Time // the next line may go out at or after this
	suppressed uint64    // lines held back since the last one let through
}

// quietKeys bounds the keys remembered: past it, keys whose window has
// ended are forgotten (their suppressed count is on /metrics all the same).
const quietKeys = 4096

func newQuiet(window time.Duration, c clock.Clock) *quiet {
	return &quiet{window: window, clock: clock.Or(c), keys: map[quietKey]*quietState{}}
}

// allow reports whether a line for kiosk and reason may be written now
// and, if so, how many were held back since the previous one.
func (q *quiet) allow(kiosk, reason string) (ok bool, suppressed uint64) {
	now := q.clock.Now()
	k := quietKey{kiosk, reason}
	q.mu.Lock()
	defer q.mu.Unlock()
	st := q.keys[k]
	if st == nil {
		if len(q.keys) >= quietKeys {
			q.forget(now)
		}
		st = &quietState{}
		q.keys[k] = st
	}
	if now.Before(st.next) {
		st.suppressed++
		return false, 0
	}
	suppressed, st.suppressed = st.suppressed, 0
	st.next = now.Add(q.window)
	return true, suppressed
}

// forget drops the keys whose window has ended; if none has, it drops
// them all rather than grow without bound (a few lines too many at worst).
func (q *quiet) forget(now time.Time) {
	for k, st := range q.keys {
		if !now.Before(st.next) {
			delete(q.keys, k)
		}
	}
	if len(q.keys) >= quietKeys {
		clear(q.keys)
	}
}
