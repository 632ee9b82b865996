package uplink

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
)

const journalA = "0190d6e4-7a4b-7cc0-8b8e-00000000000a"

// journalHub plays the hub's part for one kiosk whose entries 1..held it
// holds from journal A, with gaps where told: a batch from another
// journal stores nothing and is answered with A's position, as the hub
// does; batches from journal A are stored and acked.
type journalHub struct {
	mu       sync.Mutex
	held     map[uint64]string // seq -> entry id
	journals map[string]int    // journal named by batches -> batches
	refused  int
}

func startJournalHub(t *testing.T, broker string, held uint64, gaps ...uint64) *journalHub {
	t.Helper()
	h := &journalHub{held: map[uint64]string{}, journals: map[string]int{}}
	for seq := uint64(1); seq <= held; seq++ {
		h.held[seq] = "old"
	}
	for _, g := range gaps {
		delete(h.held, g)
	}
	c := listen(t, broker, "", nil)
	// From the message handler publish must not wait: with paho's
	// OrderMatters the handler holds up the client's incoming traffic,
	// PUBACK included, and a wait there stalls until it times out.
	publish := func(wait bool) {
		h.mu.Lock()
		var contiguous, highest uint64
		for contiguous < held && h.held[contiguous+1] != "" {
			contiguous++
		}
		for seq := range h.held {
			highest = max(highest, seq)
		}
		h.mu.Unlock()
		ack, _ := protocol.EncodeAck(protocol.Ack{Kiosk: "gate-1", Contiguous: contiguous, Journal: journalA, Highest: highest, Time: time.Now()})
		tok := c.Publish(protocol.AckTopic("site-1", "gate-1"), 1, true, ack)
		if wait {
			tok.WaitTimeout(5 * time.Second)
		}
	}
	publish(true) // retained, as the hub's last ack for gate-1 is
	tok := c.Subscribe(protocol.EntriesSubscription, 1, func(_ mqtt.Client, m mqtt.Message) {
		b, err := protocol.DecodeBatchPayload(m.Payload())
		if err != nil {
			t.Errorf("kiosk sent a bad batch: %v", err)
			return
		}
		h.mu.Lock()
		h.journals[b.Journal]++
		if b.Journal != journalA {
			h.refused++
		} else {
			for _, e := range b.Entries {
				h.held[e.Seq] = e.ID
			}
			held = max(held, b.Entries[len(b.Entries)-1].Seq)
		}
		h.mu.Unlock()
		publish(false)
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("hub subscribe: %v", tok.Error())
	}
	return h
}

// TestReplacedJournalIsRenumbered: a new journal that wrote more entries
// than the hub holds from the old one (the case that once marked its
// first entries synced although the hub held the old ones) renumbers
// after the hub's entries, and every one of its entries reaches the hub
// with its id.
func TestReplacedJournalIsRenumbered(t *testing.T) {
	broker := startBroker(t)
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
	hub.mu.Lock()
	defer hub.mu.Unlock()
	for i, e := range before {
		if got := hub.held[e.Seq+5]; got != e.ID {
			t.Errorf("hub seq %d holds %q, want entry %d of the new journal (%s)", e.Seq+5, got, i, e.ID)
		}
	}
	for seq := uint64(1); seq <= 5; seq++ {
		if hub.held[seq] != "old" {
			t.Errorf("hub seq %d = %q, want the old journal's entry kept", seq, hub.held[seq])
		}
	}
	if hub.journals[journalA] == 0 || hub.journals[""] != 0 {
		t.Errorf("batches by journal = %v, want named batches only", hub.journals)
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
			broker := startBroker(t)
			hub := startJournalHub(t, broker, 5, tc.gaps...)
			j := openJournal(t)
			appendN(t, j, 8)
			if tc.acked > 0 {
				if _, err := j.Ack(context.Background(), tc.acked, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			own := j.ID()
			changes := make(chan struct{}, 16)
			u := New(Config{Broker: broker, Site: "site-1", Kiosk: "gate-1", BatchSize: 3, MaxInFlight: 2,
				AckTimeout: 200 * time.Millisecond, OnChange: func() {
					select {
					case changes <- struct{}{}:
					default:
					}
				}}, j, slog.New(slog.DiscardHandler))
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); u.Run(ctx) }()
			defer func() { cancel(); <-done }()
			eventually(t, "a problem reported", func() bool { return u.Problem() != "" })
			if p := u.Problem(); !strings.Contains(p, tc.saying) || !strings.Contains(p, "Nothing is lost") {
				t.Errorf("Problem() = %q, want it to say %q", p, tc.saying)
			}
			time.Sleep(600 * time.Millisecond) // several ack timeouts: nothing may change
			st, err := j.Status(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st.AckedSeq != tc.acked || st.LastSeq != 8 || st.Entries != 8 || j.ID() != own {
				t.Errorf("journal = %+v, id %s; want acked %d, entries 1..8 kept, id %s", st, j.ID(), tc.acked, own)
			}
			hub.mu.Lock()
			refused := hub.refused
			hub.mu.Unlock()
			if refused > 2 {
				t.Errorf("kiosk sent %d batches the hub refused; a blocked kiosk only probes now and then", refused)
			}
			if s := u.Stats(); s.Rebases != 0 {
				t.Errorf("Stats().Rebases = %d, want 0", s.Rebases)
			}
		})
	}
}

var _ Journal = (*journal.Journal)(nil)

// TestBlockedUplinkRebasesOnceTheGapIsFilled: the hub lacked one of the
// old journal's entries, then got it by import (no ack is published for
// that); the kiosk's next probe hears that the hub has no gaps now, and
// it renumbers and syncs by itself.
func TestBlockedUplinkRebasesOnceTheGapIsFilled(t *testing.T) {
	broker := startBroker(t)
	hub := startJournalHub(t, broker, 5, 3)
	j := openJournal(t)
	appendN(t, j, 4)
	u := New(Config{Broker: broker, Site: "site-1", Kiosk: "gate-1", BatchSize: 3, MaxInFlight: 2,
		AckTimeout: 200 * time.Millisecond}, j, slog.New(slog.DiscardHandler))
	u.probeEvery = 300 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); u.Run(ctx) }()
	defer func() { cancel(); <-done }()
	eventually(t, "blocked by the hub's gap", func() bool { return u.Problem() != "" })
	if st, _ := j.Status(context.Background()); st.AckedSeq != 0 || st.LastSeq != 4 {
		t.Fatalf("blocked journal = %+v, want nothing acked, last 4", st)
	}
	hub.mu.Lock()
	hub.held[3] = "old" // imported from the old card
	hub.mu.Unlock()
	waitSynced(t, j, 9)
	if u.Problem() != "" || u.Stats().Rebases != 1 || j.ID() != journalA {
		t.Errorf("after the gap was filled: Problem %q, Rebases %d, ID %s; want none, 1, %s",
			u.Problem(), u.Stats().Rebases, j.ID(), journalA)
	}
}
