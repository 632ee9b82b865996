package checkpoint

import (
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// Holds remembers who was held after a first fever reading, so that their
// next scan is taken as the second reading. Keys are pass ids (or, without
// a trusted pass, the scanned text). The caller passes the time in; Holds
// has no clock. Not safe for concurrent use: the kiosk checks one person
// at a time.
type Holds struct {
	at map[string]time.Time
}

// maxHolds bounds the map: a gate holds a handful of people at once.
const maxHolds = 256

// Hold records a first fever reading for key at now.
func (h *Holds) Hold(key string, now time.Time) {
	if key == "" {
		return
	}
	if h.at == nil {
		h.at = map[string]time.Time{}
	}
	if len(h.at) >= maxHolds {
		h.expire(now, 0)
	}
	h.at[key] = now
}

// Recheck reports whether a scan of key at now is the second reading, and
// if so how much of the rest is left (0 when the rest is over).
func (h *Holds) Recheck(key string, now time.Time, r Rules) (bool, time.Duration) {
	within := r.RecheckWithin
	if within <= 0 {
		within = Defaults().RecheckWithin
	}
	h.expire(now, within)
	at, ok := h.at[key]
	if !ok || key == "" {
		return false, 0
	}
	if left := at.Add(r.RecheckAfter).Sub(now); left > 0 {
		return true, left
	}
	return true, 0
}

// Len is the number of people held.
func (h *Holds) Len() int { return len(h.at) }

// Done forgets key: the second reading decided.
func (h *Holds) Done(key string) { delete(h.at, key) }

// Replay applies what a journaled entry of key, made at at with reasons,
// did to the holds: a fever hold holds, a second reading that decided
// (normal on recheck, or fever confirmed) ends the hold. A kiosk replays
// its recent entries when it starts, so that a restart does not forget
// who is resting before their second reading.
func (h *Holds) Replay(key string, at time.Time, reasons []string) {
	switch {
	case has(reasons, protocol.ReasonFeverHold):
		h.Hold(key, at)
	case has(reasons, protocol.ReasonRecheckNormal), has(reasons, protocol.ReasonFeverConfirmed):
		h.Done(key)
	}
}

// expire forgets holds older than within (all of them when within is 0,
// and any "in the future", which a clock jump leaves behind).
func (h *Holds) expire(now time.Time, within time.Duration) {
	for k, at := range h.at {
		if within == 0 || now.Sub(at) > within || at.After(now) {
			delete(h.at, k)
		}
	}
}
