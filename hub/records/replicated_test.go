package records

import (
	"context"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/pgtest"
	"github.com/gatepost/gatepost/protocol"
	"github.com/jackc/pgx/v5"
)

// TestCommitNotReplicatedIsNotSaved: on a primary whose commits wait for
// a synchronous standby (docs/scale.md, "PostgreSQL with two standbys"),
// a batch whose context ends while its commit waits for a standby that is
// down is not reported saved, by either way of saving. PostgreSQL keeps
// such a commit on the primary and says so only in a WARNING; a failover
// to the standby would lose it, so the hub must not ack it (the kiosk
// sends it again). The commit is indeed kept: the test checks that too.
func TestCommitNotReplicatedIsNotSaved(t *testing.T) {
	t.Parallel()
	primary := pgtest.Own(t)
	standby := primary.Standby(t)
	s := openAt(t, primary.URL)
	es := chained("gate-1", 3)
	if _, err := s.SaveBatches(t.Context(), []protocol.Batch{batchOf(es[0])}, t0); err != nil {
		t.Fatalf("SaveBatches while the standby streams: %v", err)
	}
	standby.Crash(t)

	saves := []struct {
		name string
		save func(ctx context.Context, b protocol.Batch) error
	}{
		{"SaveBatches", func(ctx context.Context, b protocol.Batch) error {
			out, err := s.SaveBatches(ctx, []protocol.Batch{b}, t0)
			if err == nil {
				err = out[0].Err
			}
			return err
		}},
		{"SaveBatch", func(ctx context.Context, b protocol.Batch) error {
			_, err := s.SaveBatch(ctx, b, t0)
			return err
		}},
	}
	for i, sv := range saves {
		seq := uint64(i + 2)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- sv.save(ctx, batchOf(es[seq-1])) }()
		waitForSyncRep(t, primary.URL, done)
		cancel()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s: a commit cancelled while it waited for the standby was reported saved, so it would be acked", sv.name)
			} else {
				t.Logf("%s: %v", sv.name, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: no answer within 30s of the cancel", sv.name)
		}
		if c, err := s.Contiguous(t.Context(), "gate-1"); err != nil || c != seq {
			t.Errorf("%s: contiguous %d, %v; want %d: PostgreSQL keeps the cancelled commit on the primary", sv.name, c, err, seq)
		}
	}
}

// waitForSyncRep waits until a backend of the server at url waits for a
// synchronous standby, failing the test if done answers first.
func waitForSyncRep(t *testing.T, url string, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'`).Scan(&n); err != nil {
			t.Fatalf("no commit waits for the standby within 30s: %v", err)
		}
		if n > 0 {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("the save answered (%v) before its commit waited for the standby", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestVersionsThroughAFailoverURL: the doctor's and the read-only
// commands' look at the store works through the URL docs/scale.md gives
// for a primary and its standbys (target_session_attrs=read-write): the
// look is read-only once connected, so the primary still counts as
// writable.
func TestVersionsThroughAFailoverURL(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	openAt(t, url)
	have, known, err := Versions(t.Context(), url+"&target_session_attrs=read-write")
	if err != nil || have != known || have == 0 {
		t.Fatalf("Versions = %d, %d, %v; want this build's version twice", have, known, err)
	}
}
