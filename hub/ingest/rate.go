package ingest

import (
	"fmt"
	"sync"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
)

// Defaults of the per-kiosk rate limits. A kiosk sends one batch per
// entry while live and whole batches (100 entries by default, up to
// protocol.MaxBatchEntries) while it drains a backlog, a few in flight:
// 50 a second with a burst of 200 is far above either, and far below the
// 5,000 a second of the flood that once overflowed the hub's queue.
// Alerts are limited only against a flood: a kiosk back from an outage
// sends its alerts 32 at a time, and they must never wait behind a limit.
const (
	DefaultBatchRate  = 50   // batches a second per kiosk
	DefaultBatchBurst = 200  // batches at once per kiosk
	DefaultAlertRate  = 100  // alerts a second per kiosk
	DefaultAlertBurst = 1000 // alerts at once per kiosk
)

// bucket is a token bucket: it holds up to burst tokens, gains rate a
// second, and a message takes one.
type bucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
	// flood counts refusals since floodFrom, to tell a flood (an alarm)
	// from a kiosk draining a little too fast (only counted).
	flood     int
	floodFrom time.Time
}

// limiter keeps one bucket per key (a kiosk's topic and leaf).
type limiter struct {
	rate  float64
	burst float64
	clock clock.Clock

	mu      sync.Mutex
	buckets map[string]*bucket
}

// limiterKeys bounds the buckets kept: past it, full buckets, which are
// no different from new ones, are forgotten.
const limiterKeys = 10000

// floodWindow is how long refusals are counted to call them a flood: a
// kiosk refused more than its burst within it is flooding the hub.
const floodWindow = time.Minute

func newLimiter(rate float64, burst int, c clock.Clock) *limiter {
	return &limiter{rate: rate, burst: float64(burst), clock: clock.Or(c), buckets: map[string]*bucket{}}
}

// take reports whether key may send one message now; when it may not,
// flood reports whether this refusal makes the key's refusals within
// floodWindow exceed its burst (once per window).
func (l *limiter) take(key string) (ok, flood bool) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= limiterKeys {
			l.forget(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, false
	}
	if now.Sub(b.floodFrom) >= floodWindow {
		b.flood, b.floodFrom = 0, now
	}
	b.flood++
	return false, b.flood == int(l.burst)+1
}

func (l *limiter) refill(b *bucket, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(l.burst, b.tokens+d.Seconds()*l.rate)
		b.at = now
	}
}

// forget drops the buckets that are full again; if none is, all of them
// (each kiosk then starts again with a full burst).
func (l *limiter) forget(now time.Time) {
	for k, b := range l.buckets {
		if l.refill(b, now); b.tokens >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= limiterKeys {
		clear(l.buckets)
	}
}

// Allow is the per-kiosk rate limit, asked about each message before it
// is queued: hub/link asks it on the goroutine that reads from the broker,
// so it never blocks (Run hands it to a Gated source; with any other
// source Run asks it itself). It reports whether the message may go on. A
// kiosk's batches and statuses share one bucket (BatchRate, BatchBurst),
// its alerts have their own (AlertRate, AlertBurst), so a flood of
// batches never holds back an alert. A message refused is counted and
// logged (rate_limited) and not acknowledged: the kiosk sends it again
// after its ack timeout, so nothing is lost. A flood (more refusals than
// the burst within a minute) raises the alarm. A topic that is not a
// kiosk's goes on, for Decode to refuse.
func (in *Ingest) Allow(topic string) bool {
	in.init()
	site, kiosk, leaf, err := protocol.ParseKioskTopic(topic)
	if err != nil {
		return true
	}
	lim, key := in.batches, site+"/"+kiosk
	if leaf == "alerts" {
		lim = in.alerts
	}
	ok, flood := lim.take(key)
	if ok {
		return true
	}
	what := "batches"
	if leaf == "alerts" {
		what = "alerts"
	}
	in.refuse(refusal{site: site, kiosk: kiosk, topic: topic, reason: protocol.RefusedRateLimited, alarm: flood,
		err: fmt.Errorf("more %s than %g a second (burst %g)", what, lim.rate, lim.burst)})
	return false
}
