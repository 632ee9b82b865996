package uplink

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
)

const regressAckTimeout = time.Minute

// startSynced runs an uplink on a fake clock with a stand-in hub, and
// waits until the hub has acknowledged the n entries written first.
func startSynced(t *testing.T, n int) (*Uplink, *journal.Journal, *testkit.StandInHub, *clock.Fake, string) {
	t.Helper()
	broker := testkit.StartBroker(t).URL
	hub := testkit.StartHub(t, broker, testkit.HubOptions{})
	j := openJournal(t)
	appendN(t, j, n)
	clk := clock.NewFake(time.Time{})
	u := start(t, Config{Broker: broker, BatchSize: 4, MaxInFlight: 2, AckTimeout: regressAckTimeout, Clock: clk}, j)
	waitSynced(t, j, uint64(n))
	return u, j, hub, clk, broker
}

func lowCount(u *Uplink) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.low.count
}

func times(hub *testkit.StandInHub, from, to uint64) []int {
	var out []int
	for seq := from; seq <= to; seq++ {
		out = append(out, hub.Times(seq))
	}
	return out
}

// TestHubThatLostEntriesGetsThemAgain: a hub that acknowledged 1..10 and
// then lost 6..10 (restored from an older backup) keeps acking 5 while
// the kiosk sends newer entries. After the ack timeout the kiosk rewinds
// to 5, counts it, and sends 6..10 again, each once; the hub's acks then
// mark everything synced again.
func TestHubThatLostEntriesGetsThemAgain(t *testing.T) {
	u, j, hub, clk, _ := startSynced(t, 10)
	hub.Forget(5)
	before := times(hub, 6, 10)

	appendN(t, j, 2)
	u.Notify()
	testkit.Eventually(t, "the hub answered the new entries", func() bool { return hub.Times(12) == 1 && lowCount(u) > 0 })
	if got := ackedSeq(t, j); got != 10 {
		t.Fatalf("journal acked %d after one lower ack, want 10 kept", got)
	}
	// Ack timeouts pass: the kiosk sends 11..12 again, the hub still acks 5.
	testkit.Eventually(t, "the kiosk rewound to the hub's ack", func() bool {
		if u.Stats().HubRegressions == 0 {
			advance(t, u, clk, regressAckTimeout/4)
		}
		return u.Stats().HubRegressions == 1
	})
	waitSynced(t, j, 12)
	for i, n := range times(hub, 6, 10) {
		if n != before[i]+1 {
			t.Errorf("hub received seq %d %d more times after losing it, want once", 6+i, n-before[i])
		}
	}
	if got := hub.Held(8); got == "" {
		t.Error("hub does not hold seq 8 again")
	}
	if s := u.Stats(); s.HubRegressions != 1 || u.Problem() != "" {
		t.Errorf("HubRegressions = %d, Problem = %q; want 1 and none", s.HubRegressions, u.Problem())
	}
}

// TestLateLowerAcksInARowChangeNothing: acks below the recorded position that
// do not persist (a hub replica's late ack, overtaken by a newer one) un-ack
// nothing and send nothing again, however long the kiosk waits.
func TestLateLowerAcksInARowChangeNothing(t *testing.T) {
	u, j, hub, clk, broker := startSynced(t, 10)
	batches := hub.Batches()
	sent := u.Stats().Entries
	forgeAck(t, broker, protocol.Ack{Journal: j.ID(), Contiguous: 5, Highest: 10})
	forgeAck(t, broker, protocol.Ack{Journal: j.ID(), Contiguous: 7, Highest: 10}) // two in a row
	testkit.Eventually(t, "the late acks heard", func() bool { return lowCount(u) == 2 })
	for i := 0; i < 12; i++ { // three ack timeouts
		advance(t, u, clk, regressAckTimeout/4)
	}
	if got := ackedSeq(t, j); got != 10 {
		t.Fatalf("journal acked %d after late acks, want 10", got)
	}
	if s := u.Stats(); s.HubRegressions != 0 || s.Entries != sent || hub.Batches() != batches {
		t.Fatalf("after late acks: HubRegressions %d, entries sent %d (was %d), hub batches %d (was %d); want nothing sent",
			s.HubRegressions, s.Entries, sent, hub.Batches(), batches)
	}
	// The next entry's ack is the hub's own, at or above the mark: the
	// late acks are forgotten, and syncing goes on.
	appendN(t, j, 1)
	u.Notify()
	waitSynced(t, j, 11)
	if s := u.Stats(); s.HubRegressions != 0 || hub.Times(6) != 1 {
		t.Fatalf("HubRegressions %d, seq 6 received %d times; want 0 and once", s.HubRegressions, hub.Times(6))
	}
}

// TestHubLostWhatTheKioskPurged: entries the hub lost that retention had
// deleted here cannot be sent again. The kiosk sends what it still holds
// and its problem line names the range the hub lost, with the kiosk, in
// both languages; the entries after it stay unsynced (and kept) until the
// hub holds the range again.
func TestHubLostWhatTheKioskPurged(t *testing.T) {
	u, j, hub, clk, _ := startSynced(t, 8)
	if n, err := j.Purge(context.Background(), time.Now().Add(time.Hour)); err != nil || n != 8 {
		t.Fatalf("Purge = %d, %v; want the 8 acknowledged entries deleted", n, err)
	}
	appendN(t, j, 2)
	u.Notify()
	waitSynced(t, j, 10)
	hub.Forget(5) // the hub lost 6..10; the kiosk holds 9 and 10 only

	appendN(t, j, 1)
	u.Notify()
	testkit.Eventually(t, "the kiosk rewound and named the lost range", func() bool {
		if u.Stats().HubRegressions == 0 {
			advance(t, u, clk, regressAckTimeout/4)
		}
		return u.Problem() != ""
	})
	p := u.Problem()
	for _, want := range []string{"6..8", "gate-1", "backup", "备份"} {
		if !strings.Contains(p, want) {
			t.Errorf("Problem() = %q, want it to name %q", p, want)
		}
	}
	testkit.Eventually(t, "entries 9..11 at the hub again", func() bool { return hub.Held(9) != "" && hub.Held(10) != "" })
	if got := ackedSeq(t, j); got != 5 {
		t.Errorf("journal acked %d, want the hub's 5: the entries after the lost range are not synced", got)
	}
	if st, _ := j.Status(context.Background()); st.Entries != 3 {
		t.Errorf("journal holds %d entries, want 9..11 kept", st.Entries)
	}

	// The range is imported at the hub: its next ack passes it, and the
	// problem ends by itself.
	for seq := uint64(6); seq <= 8; seq++ {
		hub.Hold(seq, "imported")
	}
	testkit.Eventually(t, "synced once the hub holds the range", func() bool {
		if !synced(t, j, 11) {
			advance(t, u, clk, regressAckTimeout/4) // the ack timeout resends, and the hub acks
			return false
		}
		return u.Problem() == ""
	})
}
