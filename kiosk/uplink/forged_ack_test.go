package uplink

import (
	"context"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
)

// forgeAck publishes an ack for gate-1 as anyone on the broker could.
func forgeAck(t *testing.T, broker string, a protocol.Ack) {
	t.Helper()
	a.Kiosk, a.Time = "gate-1", time.Now()
	body, err := protocol.EncodeAck(a)
	if err != nil {
		t.Fatal(err)
	}
	c := listen(t, broker, "", nil)
	if tok := c.Publish(protocol.AckTopic("site-1", "gate-1"), 1, false, body); !tok.WaitTimeout(testkit.Wait) || tok.Error() != nil {
		t.Fatalf("publish forged ack: %v", tok.Error())
	}
}

func ackedSeq(t *testing.T, j *journal.Journal) uint64 {
	t.Helper()
	st, err := j.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.AckedSeq
}

// waitRounds waits until the send loop has taken n more turns, each of
// which applies whatever ack it holds.
func waitRounds(t *testing.T, u *Uplink, n uint64) {
	t.Helper()
	from := u.rounds.Load()
	testkit.Eventually(t, "the send loop turned", func() bool { return u.rounds.Load() >= from+n })
}

// TestAckAheadOfWhatWasSentIsRefusedAndForgotten: an ack for entries the
// kiosk has not sent marks nothing synced, and is not kept to be applied
// once the kiosk has sent that far; an ack within what was sent applies.
func TestAckAheadOfWhatWasSentIsRefusedAndForgotten(t *testing.T) {
	broker := testkit.StartBroker(t).URL // no hub: only the forger acks
	j := openJournal(t)
	appendN(t, j, 5)
	u := runUplink(t, broker, j, 10)
	testkit.Eventually(t, "entries 1..5 published", func() bool { return u.published.Load() == 5 })

	forgeAck(t, broker, protocol.Ack{Journal: j.ID(), Contiguous: 8, Highest: 8})
	testkit.Eventually(t, "the ack ahead refused", func() bool { return u.Stats().AcksAhead == 1 })
	if got := ackedSeq(t, j); got != 0 {
		t.Fatalf("journal acked %d after an ack for unsent entries, want 0", got)
	}

	appendN(t, j, 5)
	testkit.Eventually(t, "entries 6..10 published", func() bool { return u.published.Load() == 10 })
	waitRounds(t, u, 3)
	if got := ackedSeq(t, j); got != 0 {
		t.Fatalf("journal acked %d once the kiosk reached the forged ack: it was remembered", got)
	}

	forgeAck(t, broker, protocol.Ack{Journal: j.ID(), Contiguous: 5, Highest: 5})
	testkit.Eventually(t, "an ack within what was sent applied", func() bool { return ackedSeq(t, j) == 5 })
	waitRounds(t, u, 3)
	if got := ackedSeq(t, j); got != 5 {
		t.Fatalf("journal acked %d, want 5", got)
	}
}

// TestBlockedUplinkResumesOnTheHubsOwnAck: an ack naming another journal
// (forged, or a hub restored from an old backup) blocks syncing with a
// sentence for the guard, and the hub's next ack naming this journal ends
// the block by itself.
func TestBlockedUplinkResumesOnTheHubsOwnAck(t *testing.T) {
	broker := testkit.StartBroker(t).URL
	j := openJournal(t)
	appendN(t, j, 4)
	if _, err := j.Ack(context.Background(), 2, time.Now()); err != nil { // acked before: a rebase is not safe
		t.Fatal(err)
	}
	u := runUplink(t, broker, j, 10)
	testkit.Eventually(t, "entries published", func() bool { return u.published.Load() == 4 })

	forgeAck(t, broker, protocol.Ack{Journal: journalA, Contiguous: 9, Highest: 9})
	testkit.Eventually(t, "the guard told sync is blocked", func() bool { return u.Problem() != "" })
	if got := ackedSeq(t, j); got != 2 {
		t.Fatalf("journal acked %d while blocked, want 2", got)
	}

	forgeAck(t, broker, protocol.Ack{Journal: j.ID(), Contiguous: 4, Highest: 4}) // the hub's own
	testkit.Eventually(t, "syncing resumed", func() bool { return u.Problem() == "" && ackedSeq(t, j) == 4 })
	if j.ID() == journalA {
		t.Fatal("the journal was renumbered on a forged ack")
	}
}
