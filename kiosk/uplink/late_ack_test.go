package uplink

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
)

// replicaAck publishes the hub's ack for gate-1 as a replica does:
// retained, so it is what a reconnecting kiosk gets first.
func replicaAck(t *testing.T, broker string, j *journal.Journal, contiguous uint64) {
	t.Helper()
	body, err := protocol.EncodeAck(protocol.Ack{Kiosk: "gate-1", Journal: j.ID(), Contiguous: contiguous, Highest: contiguous, Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	c := listen(t, broker, "", nil)
	if tok := c.Publish(protocol.AckTopic("site-1", "gate-1"), 1, true, body); !tok.WaitTimeout(testkit.Wait) || tok.Error() != nil {
		t.Fatalf("publish ack %d: %v", contiguous, tok.Error())
	}
}

// arrived waits until what was published on gate-1's ack topic before
// has reached u: it publishes a
// message that is not an ack behind it and waits for u to count it.
func arrived(t *testing.T, broker string, u *Uplink) {
	t.Helper()
	bad := u.Stats().BadMessages
	c := listen(t, broker, "", nil)
	if tok := c.Publish(protocol.AckTopic("site-1", "gate-1"), 1, false, []byte("not an ack")); !tok.WaitTimeout(testkit.Wait) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	testkit.Eventually(t, "the message behind the ack counted", func() bool { return u.Stats().BadMessages > bad })
}

// sentSeqs records the first sequence of every batch gate-1 publishes.
type sentSeqs struct {
	mu     sync.Mutex
	firsts []uint64
}

func (s *sentSeqs) listen(t *testing.T, broker string) {
	listen(t, broker, protocol.EntriesTopic("site-1", "gate-1"), func(_ string, payload []byte) {
		b, err := protocol.DecodeBatch(payload)
		if err != nil || len(b.Entries) == 0 {
			t.Errorf("a batch the kiosk sent does not decode: %v", err)
			return
		}
		s.mu.Lock()
		s.firsts = append(s.firsts, b.Entries[0].Seq)
		s.mu.Unlock()
	})
}

func (s *sentSeqs) take() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.firsts
	s.firsts = nil
	return out
}

// With hub replicas, two batches of one kiosk can be stored by two
// replicas, and the ack of the first can reach the kiosk after the ack of
// the second: an ack lower than one already recorded. The kiosk ignores
// it: nothing is un-acked and nothing acked is sent again, neither on the
// connection it arrived on nor after a restart, when the lower ack is the
// retained one the broker hands out first.
func TestLateLowerAckChangesNothing(t *testing.T) {
	broker := testkit.StartBroker(t).URL // no hub: the test acks as the replicas
	var sent sentSeqs
	sent.listen(t, broker)
	j := openJournal(t)
	appendN(t, j, 10)
	clk := clock.NewFake(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)) // no ack timeout passes unless advanced
	cfg := Config{Broker: broker, BatchSize: 5, MaxInFlight: 2, AckTimeout: time.Minute, Clock: clk}
	first := cfg
	first.Site, first.Kiosk = "site-1", "gate-1"
	u := New(first, j, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); u.Run(ctx) }()

	var firsts []uint64
	testkit.Eventually(t, "both batches received", func() bool {
		firsts = append(firsts, sent.take()...)
		return slices.Contains(firsts, 6)
	})
	if !slices.Equal(firsts, []uint64{1, 6}) {
		t.Fatalf("batches sent starting at %v, want [1 6]", firsts)
	}
	replicaAck(t, broker, j, 10) // replica B stored 6..10 after A's 1..5
	waitSynced(t, j, 10)
	replicaAck(t, broker, j, 5) // replica A's ack, late
	arrived(t, broker, u)
	advance(t, u, clk, 15*time.Second) // the send loop turns, with the late ack in hand
	advance(t, u, clk, 15*time.Second)
	if got := ackedSeq(t, j); got != 10 {
		t.Fatalf("journal acked %d after a late ack of 5, want 10: an ack never moves backwards", got)
	}
	if got := sent.take(); len(got) != 0 {
		t.Fatalf("batches sent again starting at %v after a late ack, want none", got)
	}

	// Restarted, the kiosk first gets the retained ack, the late 5.
	cancel()
	<-done
	appendN(t, j, 2)
	u = start(t, cfg, j)
	var got []uint64
	testkit.Eventually(t, "the batch of entries 11 and 12 received", func() bool {
		got = append(got, sent.take()...)
		return slices.Contains(got, 11)
	})
	// A batch resent from 6 would have come first, on the same connection.
	if !slices.Equal(got, []uint64{11}) {
		t.Fatalf("after a restart with the late ack retained, batches sent starting at %v, want [11]: entries 6..10 are acked", got)
	}
	if got := ackedSeq(t, j); got != 10 {
		t.Fatalf("journal acked %d after the restart, want 10", got)
	}
	replicaAck(t, broker, j, 12)
	waitSynced(t, j, 12)
}
