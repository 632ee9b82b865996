package uplink

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

const journalA = "0190d6e4-7a4b-7cc0-8b8e-00000000000a"

// startJournalHub starts a stand-in hub holding entries 1..held of
// journal A for gate-1, with gaps where told, and publishes its position
// retained, as the hub's last ack for gate-1 is: a batch from another
// journal stores nothing and is answered with A's position.
func startJournalHub(t *testing.T, broker string, held uint64, gaps ...uint64) *testkit.StandInHub {
	t.Helper()
	h := testkit.StartHub(t, broker, testkit.HubOptions{Journal: journalA, Held: held, Gaps: gaps})
	if tok := h.PublishAck("site-1", "gate-1"); !tok.WaitTimeout(testkit.Wait) || tok.Error() != nil {
		t.Fatalf("hub's retained ack: %v", tok.Error())
	}
	return h
}

// TestReplacedJournalIsRenumbered: a new journal that wrote more entries
// than the hub holds from the old one (the case that once marked its
// first entries synced although the hub held the old ones) renumbers
// after the hub's entries, and every one of its entries reaches the hub
// with its id.
func TestReplacedJournalIsRenumbered(t *testing.T) {
	broker := testkit.StartBroker(t).URL
	hub := startJournalHub(t, broker, 5)
	j := openJournal(t)
	appendN(t, j, 8)
	before, err := j.Unsent(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	u := runUplink(t, broker, j, 3)
	waitSynced(t, j, 13)
	if j.ID() != journalA {
		t.Errorf("journal ID() = %q after the rebase, want the hub's %q", j.ID(), journalA)
	}
	for i, e := range before {
		if got := hub.Held(e.Seq + 5); got != e.ID {
			t.Errorf("hub seq %d holds %q, want entry %d of the new journal (%s)", e.Seq+5, got, i, e.ID)
		}
	}
	for seq := uint64(1); seq <= 5; seq++ {
		if hub.Held(seq) != "old" {
			t.Errorf("hub seq %d = %q, want the old journal's entry kept", seq, hub.Held(seq))
		}
	}
	if js := hub.Journals(); js[journalA] == 0 || js[""] != 0 {
		t.Errorf("batches by journal = %v, want named batches only", js)
	}
	if s := u.Stats(); s.Rebases != 1 {
		t.Errorf("Stats().Rebases = %d, want 1", s.Rebases)
	}
	if u.Problem() != "" {
		t.Errorf("Problem() = %q after a rebase, want none", u.Problem())
	}
}

// TestReplacedJournalNotRenumbered: when renumbering is not safe (the hub
// lacks some of the old journal's entries, or it acknowledged entries of
// this journal before) nothing is renumbered or marked synced, and
// Problem says what happened and what to do.
func TestReplacedJournalNotRenumbered(t *testing.T) {
	for _, tc := range []struct {
		name   string
		gaps   []uint64
		acked  uint64
		saying string
	}{
		{"hub has gaps", []uint64{3}, 0, "kiosk export on it and hub import"},
		{"acked before", nil, 2, "Check that no other kiosk uses the id gate-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broker := testkit.StartBroker(t).URL
			hub := startJournalHub(t, broker, 5, tc.gaps...)
			j := openJournal(t)
			appendN(t, j, 8)
			if tc.acked > 0 {
				if _, err := j.Ack(context.Background(), tc.acked, protocoltest.T0); err != nil {
					t.Fatal(err)
				}
			}
			own := j.ID()
			clk := clock.NewFake(time.Time{})
			const ackTimeout = time.Second
			u := start(t, Config{Broker: broker, BatchSize: 3, MaxInFlight: 2, AckTimeout: ackTimeout, Clock: clk}, j)
			testkit.Eventually(t, "a problem reported", func() bool { return u.Problem() != "" })
			if p := u.Problem(); !strings.Contains(p, tc.saying) || !strings.Contains(p, "Nothing is lost") {
				t.Errorf("Problem() = %q, want it to say %q", p, tc.saying)
			}
			for i := 0; i < 12; i++ { // three ack timeouts: nothing may change
				advance(t, u, clk, ackTimeout/4)
			}
			st, err := j.Status(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st.AckedSeq != tc.acked || st.LastSeq != 8 || st.Entries != 8 || j.ID() != own {
				t.Errorf("journal = %+v, id %s; want acked %d, entries 1..8 kept, id %s", st, j.ID(), tc.acked, own)
			}
			if refused := hub.Refused(); refused > 2 {
				t.Errorf("kiosk sent %d batches the hub refused; a blocked kiosk only probes now and then", refused)
			}
			if s := u.Stats(); s.Rebases != 0 {
				t.Errorf("Stats().Rebases = %d, want 0", s.Rebases)
			}
		})
	}
}

// TestBlockedUplinkRebasesOnceTheGapIsFilled: the hub lacked one of the
// old journal's entries, then got it by import (no ack is published for
// that); the kiosk's next probe hears that the hub has no gaps now, and
// it renumbers and syncs by itself.
func TestBlockedUplinkRebasesOnceTheGapIsFilled(t *testing.T) {
	broker := testkit.StartBroker(t).URL
	hub := startJournalHub(t, broker, 5, 3)
	j := openJournal(t)
	appendN(t, j, 4)
	clk := clock.NewFake(time.Time{})
	u := start(t, Config{Broker: broker, BatchSize: 3, MaxInFlight: 2, AckTimeout: time.Second, Clock: clk}, j)
	testkit.Eventually(t, "blocked by the hub's gap", func() bool { return u.Problem() != "" })
	if st, _ := j.Status(context.Background()); st.AckedSeq != 0 || st.LastSeq != 4 {
		t.Fatalf("blocked journal = %+v, want nothing acked, last 4", st)
	}
	hub.Hold(3, "old") // imported from the old card
	// The next probe, a minute on, hears that the gap is filled.
	testkit.Eventually(t, "renumbered and synced after the next probe", func() bool {
		clk.Advance(probeEvery / 8)
		return synced(t, j, 9)
	})
	if u.Problem() != "" || u.Stats().Rebases != 1 || j.ID() != journalA {
		t.Errorf("after the gap was filled: Problem %q, Rebases %d, ID %s; want none, 1, %s",
			u.Problem(), u.Stats().Rebases, j.ID(), journalA)
	}
}
