package ingest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gatepost/gatepost/hub/link"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// groupStore is the real store, watched: the size of each group, a hold
// on the first one (so that the others pile up behind it), and a hook
// before each group commits.
type groupStore struct {
	*records.SQLite
	hold   chan struct{} // closed by the test; the first save waits on it
	before func(n int)   // called before each group is saved, n batches
	mu     sync.Mutex
	sizes  []int
	once   sync.Once
}

func (g *groupStore) wait(n int) {
	g.once.Do(func() { <-g.hold })
	g.mu.Lock()
	g.sizes = append(g.sizes, n)
	g.mu.Unlock()
	if g.before != nil {
		g.before(n)
	}
}

func (g *groupStore) SaveBatch(ctx context.Context, b protocol.Batch, t time.Time) (records.Saved, error) {
	g.wait(1)
	return g.SQLite.SaveBatch(ctx, b, t)
}

func (g *groupStore) SaveBatches(ctx context.Context, bs []protocol.Batch, t time.Time) ([]records.Group, error) {
	g.wait(len(bs))
	return g.SQLite.SaveBatches(ctx, bs, t)
}

func (g *groupStore) SaveBatchesOrDefer(ctx context.Context, bs []protocol.Batch, t time.Time, wait []bool) ([]records.Group, error) {
	g.wait(len(bs))
	return g.SQLite.SaveBatchesOrDefer(ctx, bs, t, wait)
}

func (g *groupStore) largest() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, s := range g.sizes {
		n = max(n, s)
	}
	return n
}

var (
	_ GroupStore     = (*groupStore)(nil)
	_ DeferringStore = (*groupStore)(nil)
)

// chainBatch is kiosk k's batch of entries from..to, chained after prev
// (protocol.Genesis for the first); it returns the hash of its last entry.
func chainBatch(tb testing.TB, k string, from, to uint64, prev [32]byte) ([]byte, [32]byte) {
	tb.Helper()
	b := protocol.Batch{Kiosk: k, Site: site, Sent: t0.Add(time.Hour)}
	for seq := from; seq <= to; seq++ {
		e := entry(k, seq)
		e.Prev = protocol.HashText(prev)
		prev = protocol.EntryHash(prev, e)
		b.Entries = append(b.Entries, e)
	}
	data, err := protocol.EncodeBatch(b)
	if err != nil {
		tb.Fatal(err)
	}
	return data, prev
}

// Many kiosks at once over a real broker and the hub's link: batches
// waiting together share a commit; every ack is published after its rows
// are committed (the ack's contiguous is never ahead of what a reader
// sees), each kiosk's acks go forward in order, a kiosk not admitted and
// a batch breaking its chain are refused alone, and everything else is
// stored.
func TestGroupCommitManyKiosks(t *testing.T) {
	b := testkit.StartBroker(t)
	h := newHarness(t)
	gs := &groupStore{SQLite: h.store, hold: make(chan struct{})}
	h.in.Store = gs
	h.in.Admit = func(_ context.Context, _, k string) error {
		if k == "gate-retired" {
			return errors.New("retired")
		}
		return nil
	}
	l, err := link.Dial(link.Config{Broker: b.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	select {
	case <-l.Subscribed():
	case <-time.After(testkit.Wait):
		t.Fatal("the link did not subscribe")
	}
	var mu sync.Mutex
	acks := map[string][]uint64{}
	var ahead []string
	// Acks go out through the link's Send (all of a group at once, then
	// waited for); each is checked against the committed rows first.
	h.in.Send = func(topic string, payload []byte) func(context.Context) error {
		ack, err := protocol.DecodeAck(payload)
		if err != nil {
			t.Errorf("ack %s: %v", payload, err)
		}
		held, err := h.store.Contiguous(t.Context(), ack.Kiosk) // a reader sees committed rows only
		mu.Lock()
		if err != nil || held < ack.Contiguous {
			ahead = append(ahead, fmt.Sprintf("%s acked %d, held %d (%v)", ack.Kiosk, ack.Contiguous, held, err))
		}
		acks[ack.Kiosk] = append(acks[ack.Kiosk], ack.Contiguous)
		mu.Unlock()
		return l.Send(topic, payload)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); h.in.Run(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done })

	const kiosks, batches, per = 24, 4, 5
	var toks []paho.Token
	send := func(c paho.Client, k string, data []byte) {
		toks = append(toks, c.Publish(protocol.EntriesTopic(site, k), 1, false, data))
	}
	clients := map[string]paho.Client{}
	for i := range kiosks {
		k := fmt.Sprintf("gate-%d", i)
		clients[k] = kioskClient(t, b.URL, k)
	}
	clients["gate-bad"] = kioskClient(t, b.URL, "gate-bad")
	clients["gate-retired"] = kioskClient(t, b.URL, "gate-retired")
	prevs := map[string][32]byte{}
	for n := range batches {
		from := uint64(n*per + 1)
		for i := range kiosks {
			k := fmt.Sprintf("gate-%d", i)
			p, ok := prevs[k]
			if !ok {
				p = protocol.Genesis
			}
			var data []byte
			data, prevs[k] = chainBatch(t, k, from, from+per-1, p)
			send(clients[k], k, data)
		}
	}
	good, _ := chainBatch(t, "gate-bad", 1, per, protocol.Genesis)
	forged, _ := chainBatch(t, "gate-bad", per+1, 2*per, protocol.Genesis) // does not continue 1..5
	send(clients["gate-bad"], "gate-bad", good)
	send(clients["gate-bad"], "gate-bad", forged)
	retired, _ := chainBatch(t, "gate-retired", 1, per, protocol.Genesis)
	send(clients["gate-retired"], "gate-retired", retired)
	for i, tok := range toks {
		if !tok.WaitTimeout(testkit.Wait) || tok.Error() != nil {
			t.Fatalf("publish %d: %v", i, tok.Error())
		}
	}
	close(gs.hold) // the first save waited; the rest piled up behind it

	testkit.Eventually(t, "every batch handled and acked", func() bool {
		st := h.in.Stats()
		mu.Lock()
		n := 0
		for _, a := range acks {
			n += len(a)
		}
		mu.Unlock()
		return st.Batches+st.Rejected+st.AdmitErrors == kiosks*batches+3 && n == kiosks*batches+1
	})
	if n := gs.largest(); n < 2 {
		t.Errorf("largest group %d batches: nothing shared a commit", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ahead) > 0 {
		t.Errorf("acks ahead of the committed rows: %q", ahead)
	}
	for i := range kiosks {
		k := fmt.Sprintf("gate-%d", i)
		got := acks[k]
		want := []uint64{per, 2 * per, 3 * per, 4 * per}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s acks = %v, want %v (in order, after each batch)", k, got, want)
		}
	}
	if got := acks["gate-bad"]; fmt.Sprint(got) != fmt.Sprint([]uint64{per}) {
		t.Errorf("gate-bad acks = %v, want [%d] (its forged batch refused, not acked)", got, per)
	}
	if got := acks["gate-retired"]; len(got) != 0 {
		t.Errorf("gate-retired acked %v, want nothing", got)
	}
	st := h.in.Stats()
	if st.Refused[protocol.RefusedChain] != 1 || st.Refused[protocol.RefusedRetired]+st.AdmitErrors != 1 {
		t.Errorf("refused %v, admit errors %d; want one chain and one not admitted", st.Refused, st.AdmitErrors)
	}
	if st.Inserted != kiosks*batches*per+per {
		t.Errorf("Inserted = %d, want %d", st.Inserted, kiosks*batches*per+per)
	}
}

// The store closed in the middle of a group (as when the process dies
// between collecting a group and committing it): nothing of the group is
// acked, and every ack published before names only rows that are held
// when the file is opened again.
func TestGroupCommitStoreLostMidGroup(t *testing.T) {
	h := newHarness(t)
	path := filepath.Join(t.TempDir(), "hub.db")
	store, err := records.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	gs := &groupStore{SQLite: store, hold: make(chan struct{})}
	close(gs.hold)
	var closed bool
	gs.before = func(n int) {
		if n > 1 && !closed { // the first real group: lose the store under it
			closed = true
			store.Close()
		}
	}
	h.in.Store = gs
	src := make(chanSource, 64)
	topic := protocol.EntriesTopic(site, kiosk)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	src <- [2][]byte{[]byte(topic), wire(t, site, kiosk, 1)}
	go func() { defer close(done); h.in.Run(ctx, src) }()
	testkit.Eventually(t, "the first batch stored alone", func() bool { return gs.largest() > 0 })
	for seq := uint64(2); seq <= 40; seq++ {
		src <- [2][]byte{[]byte(topic), wire(t, site, kiosk, seq)}
	}
	testkit.Eventually(t, "the store lost", func() bool { return h.in.Stats().StoreErrors > 0 })
	cancel()
	<-done
	if !closed {
		t.Fatal("no group of more than one batch formed")
	}
	again, err := records.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	held, err := again.Contiguous(t.Context(), kiosk)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.acks) == 0 {
		t.Fatal("no ack at all: the first batch should have been acked")
	}
	for _, a := range h.acks {
		if a.ack.Contiguous > held {
			t.Errorf("acked %d, but %d is held after the store was lost", a.ack.Contiguous, held)
		}
	}
	t.Logf("acked %d batches, held contiguous %d, store errors %d", len(h.acks), held, h.in.Stats().StoreErrors)
}

// collect takes alerts alone, ahead of batches that waited longer and
// of those carried from the last group, closes a group at its bounds,
// takes what is waiting without waiting for more, starts with what is
// carried, and returns nil once both queues are closed and drained.
func TestCollectAlertsFirstWithinBounds(t *testing.T) {
	alerts, rest := make(chan Decoded, 8), make(chan Decoded, 100)
	for i := range 100 {
		rest <- Decoded{leaf: "entries", kiosk: fmt.Sprint(i), batch: protocol.Batch{Entries: make([]protocol.Entry, 10)}}
	}
	alerts <- Decoded{leaf: "alerts", kiosk: "a1"}
	alerts <- Decoded{leaf: "alerts", kiosk: "a2"}
	carried := []Decoded{{leaf: "entries", kiosk: "c", batch: protocol.Batch{Entries: make([]protocol.Entry, 10)}}}
	g, took := collect(alerts, rest, 64, 4096, 0, carried)
	if len(g) != 2 || g[0].kiosk != "a1" || g[1].kiosk != "a2" || took {
		t.Fatalf("first group: %v (carried taken %v); want the two alerts alone", g, took)
	}
	g, took = collect(alerts, rest, 64, 4096, 0, carried)
	if len(g) != 64 || g[0].kiosk != "c" || g[1].kiosk != "0" || !took {
		t.Fatalf("second group: %d messages starting %q %q (carried taken %v); want 64, the carried batch first, then batch 0",
			len(g), g[0].kiosk, g[1].kiosk, took)
	}
	g, _ = collect(alerts, rest, 64, 100, 0, nil) // ten batches of ten entries close it
	if len(g) != 10 || g[0].kiosk != "63" {
		t.Fatalf("third group: %d messages from %q; want 10 from batch 63 (in arrival order)", len(g), g[0].kiosk)
	}
	// An alert goes alone again, ahead of the carried batch.
	alerts <- Decoded{leaf: "alerts", kiosk: "a3"}
	g, _ = collect(alerts, rest, 64, 4096, 0, carried)
	if len(g) != 1 || g[0].kiosk != "a3" {
		t.Fatalf("fourth group: %v, want the alert alone", g)
	}
	close(rest)
	close(alerts)
	n := 0
	for g, _ := collect(alerts, rest, 64, 4096, 0, nil); g != nil; g, _ = collect(alerts, rest, 64, 4096, 0, nil) {
		n += len(g)
	}
	if n != 100-63-10 {
		t.Errorf("the rest: %d messages, want %d", n, 100-63-10)
	}
}

// With GroupWait, a group that is not full waits for more batches before
// it commits, but one holding an alert does not.
func TestCollectLingers(t *testing.T) {
	alerts, rest := make(chan Decoded, 4), make(chan Decoded, 4)
	rest <- Decoded{leaf: "entries", kiosk: "1"}
	got := make(chan []Decoded)
	go func() {
		g, _ := collect(alerts, rest, 2, 4096, time.Hour, nil)
		got <- g
	}()
	testkit.Eventually(t, "the first batch taken", func() bool { return len(rest) == 0 })
	rest <- Decoded{leaf: "entries", kiosk: "2"}
	if g := <-got; len(g) != 2 {
		t.Fatalf("lingering group: %d batches, want 2 (it waits for the second)", len(g))
	}
	alerts <- Decoded{leaf: "alerts", kiosk: "a"}
	if g, _ := collect(alerts, rest, 2, 4096, time.Hour, nil); len(g) != 1 || g[0].kiosk != "a" {
		t.Fatalf("group with an alert: %v, want the alert alone, at once", g)
	}
}
