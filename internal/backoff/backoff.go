// Package backoff is the one reconnect back-off of gatepost: exponential
// with jitter, bounded, reset on success. The kiosk's uplink, the hub's
// broker link and the device drivers' reopen loops all wait with it, so a
// fleet that lost its hub (or a gate that lost a cable) retries quickly at
// first, never in lockstep, and never faster than Min.
//
// Dialer applies it to an MQTT client's connections (the uplink and the
// hub's link share it).
//
// Anything may import backoff: it imports only internal/clock.
package backoff

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
)

// Backoff hands out waits that double from Min to Max. Each wait is drawn
// between half its bound and the bound (jitter that never gives a zero
// wait). The zero value is not usable: set Min and Max. Safe for
// concurrent use.
type Backoff struct {
	Min, Max time.Duration
	// Clock waits in Wait; nil is the wall clock.
	Clock clock.Clock

	mu    sync.Mutex
	bound time.Duration // bound of the next wait; 0 before the first failure
}

// Next returns the wait before the next attempt and doubles the bound.
func (b *Backoff) Next() time.Duration {
	b.mu.Lock()
	b.bound = min(max(2*b.bound, b.Min), b.Max)
	bound := b.bound
	b.mu.Unlock()
	return bound/2 + rand.N(bound/2+1)
}

// Reset makes the next wait start again from Min: call it once an
// attempt succeeded.
func (b *Backoff) Reset() {
	b.mu.Lock()
	b.bound = 0
	b.mu.Unlock()
}

// Wait sleeps Next() or until ctx ends, and returns ctx's error then.
func (b *Backoff) Wait(ctx context.Context) error {
	return Sleep(ctx, clock.Or(b.Clock), b.Next())
}

// Sleep waits d on c, or until ctx ends.
func Sleep(ctx context.Context, c clock.Clock, d time.Duration) error {
	t := c.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}
