package ingest

import (
	"context"
	"hash/fnv"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/pgtest"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// kioskLock is the number of kiosk's advisory lock as hub/records
// names it (lockKey): the test holds it as another replica's group
// would.
func kioskLock(kiosk string) int64 {
	h := fnv.New64a()
	h.Write([]byte("gatepost records kiosk\x00" + kiosk))
	return int64(h.Sum64())
}

// TestBusyKioskWaitsForTheNextGroup: on PostgreSQL, while another
// replica's transaction holds gate-1, Run stores and acks gate-2's batch
// of the same group at once, and leaves gate-1's for later groups; once
// the other transaction ends, gate-1's batch is stored and acked, in
// order with gate-1's later batch.
func TestBusyKioskWaitsForTheNextGroup(t *testing.T) {
	url := pgtest.Database(t)
	store, err := records.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h := newHarness(t)
	var mu sync.Mutex
	acked := map[string][]uint64{}
	gs := &groupStore{SQLite: store, hold: make(chan struct{})}
	h.in.Store = gs
	h.in.Publish = func(_ context.Context, topic string, payload []byte) error {
		ack, err := protocol.DecodeAck(payload)
		if err != nil {
			t.Errorf("ack %s: %v", payload, err)
		}
		mu.Lock()
		acked[ack.Kiosk] = append(acked[ack.Kiosk], ack.Contiguous)
		mu.Unlock()
		return nil
	}
	acks := func(kiosk string) []uint64 {
		mu.Lock()
		defer mu.Unlock()
		return append([]uint64(nil), acked[kiosk]...)
	}

	other, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(context.Background())
	tx, err := other.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(t.Context(), `SELECT pg_advisory_xact_lock($1)`, kioskLock("gate-1")); err != nil {
		t.Fatal(err)
	}

	// gate-3's batch is stored first, alone, and held there until
	// gate-1's and gate-2's are decoded and waiting behind it (the source
	// empty: gate-4's taken after them): they make the next group.
	src := make(chanSource, 8)
	src <- [2][]byte{[]byte(protocol.EntriesTopic(site, "gate-3")), wire(t, site, "gate-3", 1)}
	src <- [2][]byte{[]byte(protocol.EntriesTopic(site, "gate-1")), wire(t, site, "gate-1", 1, 2)}
	src <- [2][]byte{[]byte(protocol.EntriesTopic(site, "gate-2")), wire(t, site, "gate-2", 1, 2)}
	src <- [2][]byte{[]byte(protocol.EntriesTopic(site, "gate-4")), wire(t, site, "gate-4", 1)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); h.in.Run(ctx, src) }()
	defer func() { cancel(); <-done }()
	testkit.Eventually(t, "every batch taken from the source", func() bool { return len(src) == 0 })
	close(gs.hold)

	testkit.Eventually(t, "gate-2 acked while gate-1 is held elsewhere", func() bool { return len(acks("gate-2")) == 1 })
	if st := h.in.Stats(); st.Deferred == 0 {
		t.Errorf("Deferred = 0: the group did not leave gate-1 (%+v)", st)
	}
	if got := acks("gate-1"); len(got) != 0 {
		t.Fatalf("gate-1 acked %v while another transaction held its lock", got)
	}
	src <- [2][]byte{[]byte(protocol.EntriesTopic(site, "gate-1")), wire(t, site, "gate-1", 3)}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "gate-1's batches acked once the lock is free", func() bool { return len(acks("gate-1")) == 2 })
	if got := acks("gate-1"); got[0] != 2 || got[1] != 3 {
		t.Errorf("gate-1 acks %v, want [2 3]", got)
	}
	if got := acks("gate-2"); len(got) != 1 || got[0] != 2 {
		t.Errorf("gate-2 acks %v, want [2]", got)
	}
}
