package alerts

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
)

// Refusals carries the security refusals of the hub's ingest (a kiosk
// not enrolled, retired or at another site, a message naming another
// identity than its topic, a sequence far ahead, a flood) to the
// follower, which raises each as a protocol.AlertRefused alert at its
// next poll, on its own goroutine, as it raises every other alert. Report
// never blocks, so ingest calls it on its way (ingest.Ingest.Alarm).
//
// One alert per kiosk and reason per RefusedEvery: the alert's key holds
// the ten minutes it was raised in, so reports within them, a hub restart
// included, make one alert.
type Refusals struct {
	clock clock.Clock

	mu      sync.Mutex
	pending []operators.Alert
	lost    int // reports dropped because pending was full
}

const (
	// RefusedEvery is the span of one refusal alert per kiosk and reason.
	RefusedEvery = 10 * time.Minute
	// maxPending bounds the reports waiting for a poll; one a second
	// would already be far more than anyone reads.
	maxPending = 256
)

// NewRefusals returns an empty Refusals on c (nil for the wall clock).
func NewRefusals(c clock.Clock) *Refusals { return &Refusals{clock: clock.Or(c)} }

// Report queues a refusal of kiosk at site for reason (a
// protocol.Refused* reason) with detail, the problem found. Safe from any
// goroutine.
func (r *Refusals) Report(site, kiosk, reason, detail string) {
	now := r.clock.Now()
	a := operators.Alert{Kind: protocol.AlertRefused, Site: site, Kiosk: kiosk, Raised: now,
		Key:    fmt.Sprintf("refused:%s:%s/%s:%d", reason, site, kiosk, now.Truncate(RefusedEvery).Unix()),
		Detail: refusedDetail(site, kiosk, reason, detail)}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) >= maxPending {
		r.lost++
		return
	}
	r.pending = append(r.pending, a)
}

// take returns and forgets what is pending, and how many reports were
// lost since the last take.
func (r *Refusals) take() ([]operators.Alert, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, lost := r.pending, r.lost
	r.pending, r.lost = nil, 0
	return p, lost
}

// RaiseRefusals raises what ingest reported since it was last called.
// With hub replicas every replica calls it for its own ingest's reports,
// on a Follower of its own, whether or not it runs Poll (hub/server).
func (f *Follower) RaiseRefusals(ctx context.Context) error { return f.raiseRefusals(ctx) }

// raiseRefusals raises what ingest reported since the last poll.
func (f *Follower) raiseRefusals(ctx context.Context) error {
	if f.cfg.Refusals == nil {
		return nil
	}
	list, lost := f.cfg.Refusals.take()
	if lost > 0 {
		f.log.Warn("alerts: refusal reports beyond the queue not raised; the log and /metrics have them", "lost", lost)
	}
	for i, a := range list {
		if err := f.raise(ctx, a); err != nil {
			f.log.Error("alerts: refusal alerts not raised", "err", err, "not_raised", len(list)-i)
			return err
		}
	}
	return nil
}

// refusedDetail is the alert's sentence: what was refused and what an
// operator does about it.
func refusedDetail(site, kiosk, reason, detail string) string {
	who := site + "/" + kiosk
	var s string
	switch reason {
	case protocol.RefusedNotEnrolled:
		s = fmt.Sprintf("Messages from %s refused: no such kiosk is enrolled. If it is a new kiosk of yours, enroll it "+
			"(hub kiosks enroll); otherwise someone with access to the broker publishes under its name.", who)
	case protocol.RefusedRetired:
		s = fmt.Sprintf("Messages from retired kiosk %s refused. Find the device and switch it off, "+
			"or enroll it again under a new kiosk id.", who)
	case protocol.RefusedWrongSite:
		s = fmt.Sprintf("Messages from %s refused: the kiosk is enrolled at another site. "+
			"Correct the site in the kiosk's config (hub kiosks list shows where it is enrolled).", who)
	case protocol.RefusedIdentity:
		s = fmt.Sprintf("Messages on %s's topic naming another kiosk or site refused. The kiosk's software or config "+
			"is wrong, or someone uses its credentials: if it is not yours, retire it and enroll it again.", who)
	case protocol.RefusedSeqWindow:
		s = fmt.Sprintf("Entries from %s with sequence numbers far beyond what the hub holds refused. If its journal "+
			"really is that far ahead, raise --seq-window; otherwise someone uses its credentials.", who)
	case protocol.RefusedChain:
		s = fmt.Sprintf("Entries from %s refused: their chain hashes do not continue the entries the hub holds, so "+
			"nothing of them was stored. Its journal was altered or replaced by hand, or someone uses its credentials: "+
			"run hub verify --kiosk %s and check the device.", who, kiosk)
	case protocol.RefusedSignature:
		s = fmt.Sprintf("Entries from %s refused: the batch was not signed with the key the kiosk enrolled with, or "+
			"its entries were changed after signing, so nothing of it was stored. If the kiosk was reinstalled or "+
			"updated from a version before signatures, enroll it again or update it; otherwise someone forges its entries.", who)
	case protocol.RefusedRateLimited:
		s = fmt.Sprintf("%s flooded the hub beyond its rate limit; the excess was dropped (a real kiosk sends it again). "+
			"Unless it is draining a long backlog, someone uses its credentials: retire it and enroll it again.", who)
	default:
		s = fmt.Sprintf("Messages from %s refused (%s).", who, reason)
	}
	if detail != "" {
		s += " Found: " + detail
	}
	return s
}
