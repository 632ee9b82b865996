package uplink

import (
	"context"
	"errors"
	"fmt"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/kiosk/words"
	"github.com/gatepost/gatepost/protocol"
)

// applyAck records in the journal any ack the hub sent. An ack naming
// another journal than ours is never taken as an ack of our entries: it
// says the hub holds entries of this kiosk from a journal ours replaced
// (see replacedJournal).
//
// Whatever arrives, entries are marked synced only up to what this uplink
// has published and the hub acknowledged: an ack beyond what was sent is
// refused, counted, and forgotten, so it cannot mark later entries synced
// when the kiosk reaches them. A blocked uplink (another journal named)
// resumes by itself once the hub's ack names this journal again.
//
// An ack below the one recorded marks nothing unsynced by itself: with
// hub replicas a late ack is normal. Only a hub that keeps acking below
// it makes the kiosk send again from the hub's ack (checkRegression).
func (u *Uplink) applyAck(ctx context.Context, cur *cursor) {
	u.checkRegression(ctx, cur)
	u.mu.Lock()
	hubAck, named := u.hubAck, u.named
	u.mu.Unlock()
	if named.Journal != "" {
		if named.Journal == u.journal.ID() {
			hubAck = max(hubAck, named.Contiguous)
			if cur.blocked {
				cur.blocked = false
				u.log.Info("the hub's ack names this journal again: syncing resumes", "ack", named.Contiguous)
				u.setProblem("")
			}
		} else if named != cur.seenNamed {
			cur.seenNamed = named
			u.replacedJournal(ctx, cur, named)
		}
	}
	if hubAck <= cur.acked {
		return
	}
	if sent := u.published.Load(); hubAck > sent {
		u.forgetAck(hubAck, named)
		u.stats.acksAhead.Add(1)
		u.log.Warn("refused an ack for entries this kiosk has not sent: not the hub's own; nothing marked synced",
			"ack", hubAck, "sent", sent, "acked", cur.acked)
		return
	}
	changed, err := u.journal.Ack(ctx, hubAck, u.clock.Now())
	switch {
	case errors.Is(err, journal.ErrAckAhead):
		u.setProblem(words.Both("uplink_ack_ahead", map[string]string{"ack": fmt.Sprint(hubAck), "kiosk": u.cfg.Kiosk}))
		u.log.Error("cannot record the hub's ack", "ack", hubAck, "err", err)
	case err != nil:
		u.log.Error("cannot record the hub's ack", "ack", hubAck, "err", err)
	case changed:
		cur.acked = hubAck
		cur.progress = u.clock.Now()
		cur.wait.Acked(hubAck, cur.progress)
		u.lastAck.Store(cur.progress.UnixNano())
		u.stats.acks.Add(1)
		if !cur.blocked && cur.acked >= cur.missing {
			cur.missing = 0
			u.setProblem("")
		}
		u.changed()
	}
	cur.sent = max(cur.sent, cur.acked)
	cur.alertSent = max(cur.alertSent, cur.acked)
}

// forgetAck drops a refused ack so that it is not applied later, unless a
// newer ack replaced it meanwhile.
func (u *Uplink) forgetAck(hubAck uint64, named protocol.Ack) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.hubAck == hubAck {
		u.hubAck = 0
	}
	if u.named == named && named.Contiguous == hubAck {
		u.named.Contiguous = 0
	}
}

// replacedJournal handles an ack naming another journal than ours: the
// hub holds entries of this kiosk id from an earlier journal (the card
// was replaced, or `kiosk init` run again), and refuses ours, which number
// from 1 again. If the hub has acknowledged nothing of ours and holds the
// earlier journal without gaps, the journal renumbers its entries after
// the hub's highest and takes the earlier journal's id, and sending
// starts again from there. Otherwise nothing is renumbered or marked
// synced, entries stay in the journal (exportable), and Problem says what
// a person must do.
func (u *Uplink) replacedJournal(ctx context.Context, cur *cursor, a protocol.Ack) {
	highest := max(a.Highest, a.Contiguous)
	if !cur.blocked {
		cur.probed = u.clock.Now() // the hub has just answered
	}
	if a.Contiguous != highest {
		cur.blocked = true
		u.setProblem(words.Both("uplink_hub_gaps", map[string]string{
			"kiosk": u.cfg.Kiosk, "contiguous": fmt.Sprint(a.Contiguous), "highest": fmt.Sprint(highest)}))
		return
	}
	head := protocol.Genesis // a hub that predates the chain names no head
	if a.Head != "" {
		head, _ = protocol.ParseHash(a.Head) // DecodeAck checked it
	}
	r, err := u.journal.Rebase(ctx, a.Journal, highest, head)
	switch {
	case errors.Is(err, journal.ErrRebaseUnsafe):
		cur.blocked = true
		u.setProblem(words.Both("uplink_other_journal", map[string]string{"kiosk": u.cfg.Kiosk, "highest": fmt.Sprint(highest)}))
		return
	case err != nil:
		// Nothing changed; the hub says the same at the next batch.
		cur.seenNamed = protocol.Ack{}
		u.log.Error("cannot renumber the journal after the hub's entries; will try again", "err", err)
		return
	}
	u.stats.rebases.Add(1)
	u.log.Warn(fmt.Sprintf("this kiosk's journal replaced an earlier one: the hub holds entries 1..%d of %s from it, "+
		"so the %d entries here were renumbered %d..%d and will be sent now", highest, u.cfg.Kiosk, r.Entries, highest+1, r.LastSeq),
		"journal", a.Journal, "entries", r.Entries)
	cur.blocked = false
	cur.acked = highest
	u.rewind(cur)
	u.lastAck.Store(u.clock.Now().UnixNano())
	u.setProblem("")
	u.statusDue.Store(true)
	u.changed()
}

// probeEvery is how often a blocked uplink sends one batch, so that the
// hub says again where it stands (the missing entries may have been
// imported meanwhile).
const probeEvery = time.Minute

// probe sends, every probeEvery, one batch of the first unsynced entry:
// the hub's answer may now allow a rebase.
func (u *Uplink) probe(ctx context.Context, c mqtt.Client, cur *cursor) error {
	if u.clock.Since(cur.probed) < u.probeEvery {
		return nil
	}
	cur.probed = u.clock.Now()
	cur.seenNamed = protocol.Ack{} // hear the hub's answer even if it is the same
	entries, err := u.journal.UnsentEncoded(ctx, cur.acked, 1)
	if err != nil || len(entries) == 0 {
		return err
	}
	payload, err := u.encodeStored(entries[:1], 0)
	if err != nil {
		return err
	}
	u.stats.batches.Add(1)
	return waitToken(u.publishPayload(c, protocol.EntriesTopic(u.cfg.Site, u.cfg.Kiosk), payload, 1))
}
