package clock

import (
	"sort"
	"sync"
	"time"
)

// Fake is a Clock that moves only when Advance or Set moves it. Timers,
// tickers and AfterFuncs fire, in order of their deadlines, as Advance
// passes them. Channels are buffered by one, as time's are, so a fire
// never blocks Advance; a tick nobody read is dropped, as time's are.
//
// Waiters tells how many timers are armed, so a test can wait until the
// code under test is blocked on the clock before advancing it, instead
// of sleeping.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*fakeTimer
	changed chan struct{} // closed and replaced whenever waiters changes
}

// NewFake starts a fake clock at start (a fixed, recognisable instant if
// start is zero).
func NewFake(start time.Time) *Fake {
	if start.IsZero() {
		start = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	}
	return &Fake{now: start, changed: make(chan struct{})}
}

var _ Clock = (*Fake)(nil)

// Now is the fake's current time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Since is Now().Sub(t).
func (f *Fake) Since(t time.Time) time.Duration { return f.Now().Sub(t) }

// After is NewTimer(d).C().
func (f *Fake) After(d time.Duration) <-chan time.Time { return f.NewTimer(d).C() }

// NewTimer arms a one-shot timer.
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{clock: f, ch: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

// AfterFunc calls fn in a goroutine of its own once the clock passes d.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	t := &fakeTimer{clock: f, fn: fn}
	t.Reset(d)
	return t
}

// NewTicker arms a ticker firing every d.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	t := &fakeTimer{clock: f, ch: make(chan time.Time, 1), every: d}
	t.Reset(d)
	return fakeTicker{t}
}

// Advance moves the clock forward by d, firing every timer whose deadline
// it passes, in deadline order, each at its own deadline.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.setLocked(f.now.Add(d))
}

// Set moves the clock to t (forward only; an earlier t is ignored, as
// monotonic time never goes back).
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.setLocked(t)
}

// setLocked is called with f.mu held and releases it.
func (f *Fake) setLocked(end time.Time) {
	for {
		sort.Slice(f.waiters, func(i, j int) bool { return f.waiters[i].when.Before(f.waiters[j].when) })
		if len(f.waiters) == 0 || f.waiters[0].when.After(end) {
			break
		}
		t := f.waiters[0]
		at := t.when
		if at.After(f.now) {
			f.now = at
		}
		if t.every > 0 {
			t.when = t.when.Add(t.every)
		} else {
			f.removeLocked(t)
		}
		f.mu.Unlock()
		t.fire(at)
		f.mu.Lock()
	}
	if end.After(f.now) {
		f.now = end
	}
	f.mu.Unlock()
}

// Waiters is the number of timers, tickers and AfterFuncs armed now.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// BlockUntil blocks until at least n timers are armed: the code under
// test has reached its wait, and advancing the clock cannot miss it.
func (f *Fake) BlockUntil(n int) {
	for {
		f.mu.Lock()
		if len(f.waiters) >= n {
			f.mu.Unlock()
			return
		}
		ch := f.changed // taken with the count, so no change is missed
		f.mu.Unlock()
		<-ch
	}
}

// WaitersChanged returns a channel closed the next time a timer is armed
// or stopped, to wait for code to reach its next wait without polling.
// Take the channel before looking at what it guards (Waiters, or a
// condition of one's own), or a change in between is missed; BlockUntil
// does this for a count of timers.
func (f *Fake) WaitersChanged() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

func (f *Fake) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *Fake) removeLocked(t *fakeTimer) bool {
	for i, w := range f.waiters {
		if w == t {
			f.waiters = append(f.waiters[:i], f.waiters[i+1:]...)
			f.notifyLocked()
			return true
		}
	}
	return false
}

type fakeTimer struct {
	clock *Fake
	ch    chan time.Time
	fn    func()
	every time.Duration
	when  time.Time // guarded by clock.mu
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) fire(now time.Time) {
	if t.fn != nil {
		go t.fn()
		return
	}
	select {
	case t.ch <- now:
	default: // nobody read the last one: drop, as time does
	}
}

func (t *fakeTimer) Stop() bool {
	f := t.clock
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.removeLocked(t)
}

// Reset re-arms the timer d from now; a timer that had fired, or was
// stopped, is armed again.
func (t *fakeTimer) Reset(d time.Duration) bool {
	f := t.clock
	f.mu.Lock()
	active := f.removeLocked(t)
	if t.every > 0 && d > 0 {
		t.every = d
	}
	t.when = f.now.Add(d)
	f.waiters = append(f.waiters, t)
	f.notifyLocked()
	fireNow := d <= 0
	f.mu.Unlock()
	if fireNow {
		f.Advance(0)
	}
	return active
}

type fakeTicker struct{ t *fakeTimer }

func (k fakeTicker) C() <-chan time.Time   { return k.t.ch }
func (k fakeTicker) Stop()                 { k.t.Stop() }
func (k fakeTicker) Reset(d time.Duration) { k.t.Reset(d) }
