package console

import (
	"context"
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
//
// The counts live in console.db (hub/operators), not in this process, so
// that hubs sharing one database count the same failures.
const (
	maxFailures  = 5
	nameFailures = 20
	limitWindow  = 15 * time.Minute
	slowTry      = 30 * time.Second
)

// failures is where the limiter keeps its counts: *operators.Store.
type failures interface {
	FailSignIn(ctx context.Context, forget time.Time, keys ...string) error
	SignInFailures(ctx context.Context, key string, since time.Time) (int, error)
	ClearSignInFailures(ctx context.Context, keys ...string) error
	SlowedTry(ctx context.Context, name string, every time.Duration) (bool, error)
	EndSlowed(ctx context.Context, name string) error
}

// limiter counts recent failed sign-ins by key: "ip:", "user:", "dev:".
type limiter struct {
	store failures
	clock clock.Clock
}

func newLimiter(store failures, c clock.Clock) *limiter {
	return &limiter{store: store, clock: c}
}

// recent counts key's failures within the window.
func (l *limiter) recent(ctx context.Context, key string) (int, error) {
	return l.store.SignInFailures(ctx, key, l.clock.Now().Add(-limitWindow))
}

// allow reports whether a try for name from ip may be checked now;
// device is the browser's device cookie when console.db knows it for
// name, else "".
func (l *limiter) allow(ctx context.Context, ip, name, device string) (bool, error) {
	if device != "" {
		n, err := l.recent(ctx, "dev:"+device)
		return n < maxFailures, err
	}
	if n, err := l.recent(ctx, "ip:"+ip); err != nil || n >= maxFailures {
		return false, err
	}
	n, err := l.recent(ctx, "user:"+name)
	if err != nil {
		return false, err
	}
	if n < nameFailures {
		return true, l.store.EndSlowed(ctx, name)
	}
	return l.store.SlowedTry(ctx, name, slowTry)
}

func (l *limiter) fail(ctx context.Context, ip, name, device string) error {
	forget := l.clock.Now().Add(-limitWindow)
	if device != "" {
		return l.store.FailSignIn(ctx, forget, "dev:"+device)
	}
	return l.store.FailSignIn(ctx, forget, "ip:"+ip, "user:"+name)
}

func (l *limiter) reset(ctx context.Context, ip, name, device string) error {
	keys := []string{"user:" + name}
	if device != "" {
		keys = append(keys, "dev:"+device)
	} else {
		keys = append(keys, "ip:"+ip)
	}
	if err := l.store.ClearSignInFailures(ctx, keys...); err != nil {
		return err
	}
	return l.store.EndSlowed(ctx, name)
}
