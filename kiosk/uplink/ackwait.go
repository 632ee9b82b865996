package uplink

import "time"

// AckWait is how long the uplink waits for the hub's ack before it sends
// again from the last one: never less than the configured AckTimeout, and
// longer while the hub has been acking slowly, as TCP times its
// retransmissions (RFC 6298): a smoothed ack time plus four times its
// mean deviation, measured on batches sent once (Karn's rule: the ack of
// a batch sent twice says nothing of which copy it answers), doubled
// after each wait that passed with no ack progress, until one comes.
//
// After a district-wide outage every kiosk reconnects with a backlog, and
// the hub drains them for minutes: each kiosk's batch waits its turn at
// the broker, longer than AckTimeout. A fixed timeout made every kiosk
// send its whole window again every AckTimeout, each copy decoded and
// found held by the hub, which slowed the drain that made the acks late.
// Before the first ack there is nothing to measure, and the doubling
// spaces the copies out; once late acks are measured, the wait grows
// past them and the kiosk waits instead. A hub that acked quickly and then lost a batch (a replica
// killed after taking it from the broker) is still noticed after
// AckTimeout, as before.
//
// The wait is at most MaxAckWaits times AckTimeout, so that a batch truly
// lost during a slow drain is sent again within minutes. AckWait is not
// safe for concurrent use; the uplink's send loop owns it. The fleet
// benchmark's kiosks use it too.
type AckWait struct {
	min    time.Duration
	srtt   time.Duration // smoothed ack time; 0: no sample yet
	rttvar time.Duration
	sent   map[uint64]time.Time // last sequence of a batch sent once -> when
	resent uint64               // batches up to this one were sent again: not measured
	times  time.Duration        // 1, doubled by each wait passed without ack progress
}

// MaxAckWaits bounds AckWait's wait, in AckTimeouts.
const MaxAckWaits = 6

// NewAckWait returns an AckWait that waits at least min.
func NewAckWait(min time.Duration) *AckWait {
	return &AckWait{min: min, sent: map[uint64]time.Time{}, times: 1}
}

// Sent records a batch ending at last, published at.
func (w *AckWait) Sent(last uint64, at time.Time) {
	if last <= w.resent {
		return // a copy: its ack is not a measure
	}
	if _, ok := w.sent[last]; !ok {
		w.sent[last] = at
	}
}

// Acked records ack progress: an ack that covers every sequence up to
// upTo, received at. The newest batch it covers that was sent once gives
// a sample, and the wait is no longer doubled.
func (w *AckWait) Acked(upTo uint64, at time.Time) {
	w.times = 1
	var newest uint64
	var since time.Time
	for last, t := range w.sent {
		if last > upTo {
			continue
		}
		if last > newest {
			newest, since = last, t
		}
		delete(w.sent, last)
	}
	if newest == 0 {
		return
	}
	r := max(at.Sub(since), 0)
	if w.srtt == 0 {
		w.srtt, w.rttvar = r, r/2
		return
	}
	dev := w.srtt - r
	if dev < 0 {
		dev = -dev
	}
	w.rttvar = (3*w.rttvar + dev) / 4
	w.srtt = (7*w.srtt + r) / 8
}

// Resend records that everything sent, up to last, goes out again: the
// acks of those sequences are no measure.
func (w *AckWait) Resend(last uint64) {
	w.resent = max(w.resent, last)
	for l := range w.sent {
		if l <= last {
			delete(w.sent, l)
		}
	}
}

// TimedOut records that a wait passed with no ack progress: the next is
// twice as long, up to the cap, until an ack shows progress.
func (w *AckWait) TimedOut() {
	w.times = min(2*w.times, MaxAckWaits)
}

// Wait is how long to wait for ack progress before sending again.
func (w *AckWait) Wait() time.Duration {
	return min(max(w.min, w.srtt+4*w.rttvar)*w.times, MaxAckWaits*w.min)
}
