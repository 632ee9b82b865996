package ingest

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// Every refusal goes through refuse: counted by reason (Stats.Refused,
// /metrics), logged at most once a minute per kiosk and reason with the
// count of lines held back, and, when it is a security event, handed to
// Alarm at most once per kiosk and reason per AlarmEvery.

const (
	// logEvery is how often a refusal of one kiosk for one reason is
	// logged at most.
	logEvery = time.Minute
	// DefaultAlarmEvery is how often Alarm is told of one kiosk's
	// refusals for one reason at most.
	DefaultAlarmEvery = 10 * time.Minute
)

// refusal is one refused message.
type refusal struct {
	site, kiosk, topic string
	reason             string // a protocol.Refused* reason
	err                error  // the problem, when there is one
	alarm              bool   // a security event even if the reason alone is not (a flood)
	attrs              []any  // more for the log line
}

// advice is what the log line says for each reason: what happened and
// what a person does about it.
var advice = map[string]string{
	protocol.RefusedNotEnrolled: "security: message from a kiosk that is not enrolled refused; if the kiosk is yours, enroll it (hub kiosks enroll), else someone is publishing under its name",
	protocol.RefusedRetired:     "security: message from a retired kiosk refused; a retired device must not send: switch it off or enroll it under a new kiosk id",
	protocol.RefusedWrongSite:   "security: message naming a site its kiosk is not enrolled at refused; check the kiosk's site in its config against hub kiosks list",
	protocol.RefusedIdentity:    "security: message naming another site or kiosk than its topic refused; the kiosk's config or software is wrong, or someone forges messages",
	protocol.RefusedSeqWindow:   "security: batch with a sequence far beyond the highest held refused; if the kiosk's journal really is that far ahead, raise --seq-window",
	protocol.RefusedRateLimited: "kiosk sends faster than its limit; messages dropped unacknowledged, the kiosk sends them again later",
	protocol.RefusedQueueFull:   "ingest is behind: message dropped unacknowledged, the kiosk sends it again later",
	protocol.RefusedBadMessage:  "malformed message refused; the kiosk's software is wrong or someone sends by hand",
	protocol.RefusedTooLarge:    "message over the size limit refused",
	protocol.RefusedSimulated:   "batch with entries from simulated devices refused for a site that is not a test site: set simulate = false in the kiosk's configuration (kiosk init writes real devices), or mark a demo site with hub kiosks test-site",
	protocol.RefusedChain:       "security: batch whose chain hashes do not continue the entries held refused, nothing of it stored; the kiosk's journal was altered or replaced by hand, or someone forges its entries: run hub verify --kiosk and check the device",
	protocol.RefusedSignature:   "security: batch not signed with its kiosk's enrolled key refused, nothing of it stored; the kiosk runs software from before signatures or has a new key (enroll it again), or someone forges or edited its entries: check the device",
}

// reasonCounters counts refusals by reason, one counter per
// protocol.RefusalReasons, in its order.
type reasonCounters [12]atomic.Uint64

func reasonIndex(reason string) int {
	for i, r := range protocol.RefusalReasons {
		if r == reason {
			return i
		}
	}
	return -1
}

func (c *reasonCounters) add(reason string) {
	if i := reasonIndex(reason); i >= 0 {
		c[i].Add(1)
	}
}

func (c *reasonCounters) snapshot() map[string]uint64 {
	m := make(map[string]uint64, len(protocol.RefusalReasons))
	for i, r := range protocol.RefusalReasons {
		m[r] = c[i].Load()
	}
	return m
}

// refuse counts, logs and perhaps raises the alarm for r; it returns the
// error Handle returns for it, wrapping ErrRejected.
func (in *Ingest) refuse(r refusal) error {
	in.stats.rejected.Add(1)
	in.stats.refused.add(r.reason)
	who := r.site + "/" + r.kiosk
	if r.kiosk == "" {
		who = r.topic // a bad topic names no kiosk
	}
	problem := ""
	if r.err != nil {
		problem = r.err.Error()
	}
	if ok, n := in.lines.allow(who, r.reason); ok {
		attrs := append([]any{"reason", r.reason, "site", r.site, "kiosk", r.kiosk, "topic", r.topic}, r.attrs...)
		if problem != "" {
			attrs = append(attrs, "problem", problem)
		}
		if n > 0 {
			attrs = append(attrs, "suppressed", n)
		}
		in.logger().Warn(advice[r.reason], attrs...)
	}
	if in.Alarm != nil && (r.alarm || protocol.SecurityRefusal(r.reason)) && r.kiosk != "" {
		if ok, n := in.alarms.allow(who, r.reason); ok {
			detail := problem
			if n > 0 {
				detail = fmt.Sprintf("%s (and %d more since the last alert)", detail, n)
			}
			in.Alarm(r.site, r.kiosk, r.reason, detail)
		}
	}
	return fmt.Errorf("%w: %s from %s: %s", ErrRejected, r.reason, who, problem)
}
