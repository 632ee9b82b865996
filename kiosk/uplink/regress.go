package uplink

import (
	"context"
	"fmt"
	"time"

	"github.com/gatepost/gatepost/kiosk/words"
	"github.com/gatepost/gatepost/protocol"
)

// lowRun is a run of the hub's acks, in a row, below what this kiosk
// recorded as acknowledged. One ack below is normal with hub replicas (an
// ack overtaken by a newer one arrives late) and changes nothing. A hub
// that lost entries it had acknowledged (restored from an older backup, a
// database failover to a standby that lacked the last commits) keeps
// acking below: checkRegression tells the two apart.
type lowRun struct {
	count int       // acks below the mark in a row
	since time.Time // when the first of them arrived
	ack   uint64    // the latest of them
	// pubs is u.publishes when the run began; answered says an ack below
	// arrived after a batch published since: the hub's answer to
	// something sent after the run began, not a late ack of before.
	pubs     uint64
	answered bool
}

// noteLow adds the hub's ack a to the run of acks below the mark, or ends
// the run when a is at or above it. u.mu is held. Acks naming another
// journal are judged by replacedJournal, and acks beyond what was sent
// are refused (applyAck): neither counts either way.
func (u *Uplink) noteLow(a protocol.Ack) {
	if (a.Journal != "" && a.Journal != u.journal.ID()) || a.Contiguous > u.published.Load() {
		return
	}
	if a.Contiguous >= u.mark.Load() {
		u.low = lowRun{}
		return
	}
	pubs := u.publishes.Load()
	if u.low.count == 0 {
		u.low = lowRun{since: u.clock.Now(), pubs: pubs}
	} else if pubs > u.low.pubs {
		u.low.answered = true
	}
	u.low.count++
	u.low.ack = a.Contiguous
}

// checkRegression rewinds to the hub's ack when the hub has lost entries
// it acknowledged: for AckTimeout at least, every ack (two or more, one of
// them answering a batch sent during that time) stayed below what this
// kiosk recorded. It logs both numbers, counts it, lowers the journal's
// acknowledged position to the hub's ack (journal.Rewind: those entries
// are unsynced again and kept) and sends again from there; the hub stores
// what it lacks and counts the rest as duplicates. Entries the kiosk no
// longer holds are named by checkMissing.
func (u *Uplink) checkRegression(ctx context.Context, cur *cursor) {
	if cur.blocked {
		return
	}
	u.mu.Lock()
	run := u.low
	lost := run.count >= 2 && run.answered && run.ack < cur.acked && u.clock.Since(run.since) >= u.cfg.AckTimeout
	if lost {
		u.low = lowRun{}
		// The acks held are what the hub said before it lost entries:
		// applied now they would mark the entries synced again.
		u.hubAck = min(u.hubAck, run.ack)
		u.named.Contiguous = min(u.named.Contiguous, run.ack)
	}
	u.mu.Unlock()
	if !lost {
		return
	}
	from, err := u.journal.Rewind(ctx, run.ack)
	if err != nil {
		u.log.Error("the hub lost entries it had acknowledged, and the journal cannot record it; will look again", "hub_ack", run.ack, "err", err)
		return
	}
	u.stats.hubRegressions.Add(1)
	u.log.Warn(fmt.Sprintf("the hub acknowledges only 1..%d of %s, although it had acknowledged 1..%d: it lost entries "+
		"(restored from an older backup, or its database failed over); sending again from %d", run.ack, u.cfg.Kiosk, from, run.ack+1),
		"hub_ack", run.ack, "recorded", from)
	cur.acked = run.ack
	u.mark.Store(cur.acked)
	u.rewind(cur)
	u.checkMissing(ctx, cur)
	u.statusDue.Store(true)
	u.changed()
}

// checkMissing sets Problem when the journal no longer holds entries
// after its acknowledged position (deleted by retention while the hub
// acknowledged them, and lost by the hub since): the hub cannot be given
// them from here, and its acks stay below them until they are imported.
// Stateless, so that a restarted kiosk says it again.
func (u *Uplink) checkMissing(ctx context.Context, cur *cursor) {
	from, to, err := u.journal.Missing(ctx)
	if err != nil {
		u.log.Error("cannot read which entries the journal lacks", "err", err)
		return
	}
	cur.missing = to
	if to == 0 {
		return
	}
	u.setProblem(words.Both("uplink_hub_lost", map[string]string{
		"kiosk": u.cfg.Kiosk, "from": fmt.Sprint(from), "to": fmt.Sprint(to)}))
}
