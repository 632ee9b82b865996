package console

import (
	"sync"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
)

// Sign-in lockout (docs/console.md, "Sign-in lockout"). A stranger must
// not be able to lock the admin out by typing wrong passwords for
// "admin", so failures are counted three ways:
//
//   - per address: maxFailures wrong passwords within limitWindow and
//     that address may not try again (any name) until the window passes;
//   - per name: after nameFailures within limitWindow (from any number
//     of addresses) the name is slowed, not locked: a try from a browser
//     that never signed in as that user is checked at most once per
//     slowTry; the rest are refused unchecked;
//   - per device: a browser that signed in as the user before carries a
//     device cookie (console.db remembers it, bound to the user); its
//     tries skip the address and name limits and count against the
//     device alone, maxFailures per window.
const (
	maxFailures  = 5
	nameFailures = 20
	limitWindow  = 15 * time.Minute
	slowTry      = 30 * time.Second
)

// limiter counts recent failed sign-ins by key: "ip:", "user:", "dev:".
type limiter struct {
	mu    sync.Mutex
	clock clock.Clock
	fails map[string][]time.Time
	tried map[string]time.Time // a slowed name's last checked try
}

func newLimiter(c clock.Clock) *limiter {
	return &limiter{clock: c, fails: map[string][]time.Time{}, tried: map[string]time.Time{}}
}

// recent prunes key's failures older than the window and counts the rest.
func (l *limiter) recent(key string) int {
	cutoff := l.clock.Now().Add(-limitWindow)
	kept := l.fails[key][:0]
	for _, t := range l.fails[key] {
		if t.After(cutoff) {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(l.fails, key)
	} else {
		l.fails[key] = kept
	}
	return len(kept)
}

// allow reports whether a try for name from ip may be checked now;
// device is the browser's device cookie when console.db knows it for
// name, else "".
func (l *limiter) allow(ip, name, device string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if device != "" {
		return l.recent("dev:"+device) < maxFailures
	}
	if l.recent("ip:"+ip) >= maxFailures {
		return false
	}
	if l.recent("user:"+name) < nameFailures {
		delete(l.tried, name)
		return true
	}
	now := l.clock.Now()
	if last, ok := l.tried[name]; ok && now.Sub(last) < slowTry {
		return false
	}
	l.tried[name] = now
	return true
}

func (l *limiter) fail(ip, name, device string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if device != "" {
		l.fails["dev:"+device] = append(l.fails["dev:"+device], now)
		return
	}
	for _, k := range []string{"ip:" + ip, "user:" + name} {
		l.fails[k] = append(l.fails[k], now)
	}
}

func (l *limiter) reset(ip, name, device string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, "user:"+name)
	delete(l.tried, name)
	if device != "" {
		delete(l.fails, "dev:"+device)
	} else {
		delete(l.fails, "ip:"+ip)
	}
}
