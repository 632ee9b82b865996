package records

import (
	"context"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/pgtest"
	"github.com/gatepost/gatepost/protocol"
)

// TestCommitNotReplicatedIsNotSaved: on a primary whose commits wait for
// a synchronous standby (docs/scale.md, "PostgreSQL with two standbys"),
// a batch whose commit waits for a standby that is down, and whose wait
// is then cancelled, is not reported saved, by either way of saving:
//   - by the hub, its context ending (the hub stopping);
//   - at the server (pg_cancel_backend; a statement_timeout does the
//     same), where PostgreSQL answers COMMIT with success and a WARNING.
//
// PostgreSQL keeps such a commit on the primary, and a failover to the
// standby would lose it, so the hub must not ack it; the kiosk sends it
// again. The commit is indeed kept once its wait ends: the test checks
// that too.
func TestCommitNotReplicatedIsNotSaved(t *testing.T) {
	t.Parallel()
	primary := pgtest.Own(t)
	standby := primary.Standby(t)
	s := openAt(t, primary.URL)
	es := chained("gate-1", 5)
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
	seq := uint64(1)
	for _, byServer := range []bool{false, true} {
		for _, sv := range saves {
			seq++
			what := sv.name + ", cancelled by the hub"
			if byServer {
				what = sv.name + ", cancelled at the server"
			}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			// A backend of an earlier case may still wait: pgx closes its
			// connection and asks PostgreSQL to cancel, both at once.
			before := primary.SyncRepWaiters(t)
			go func() { done <- sv.save(ctx, batchOf(es[seq-1])) }()
			pid := primary.WaitForSyncRep(t, before, done)
			if byServer {
				primary.CancelBackend(t, pid)
			} else {
				cancel()
			}
			select {
			case err := <-done:
				if err == nil {
					t.Errorf("%s: a commit whose wait for the standby was cancelled was reported saved, so it would be acked", what)
				} else {
					t.Logf("%s: %v", what, err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("%s: no answer within 30s of the cancel", what)
			}
			cancel()
			waitForContiguous(t, s, "gate-1", seq, what+": PostgreSQL keeps the cancelled commit on the primary")
		}
	}
}

// waitForContiguous waits up to 30s for s to hold kiosk's entries
// 1..want.
func waitForContiguous(t *testing.T, s *SQLite, kiosk string, want uint64, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := s.Contiguous(t.Context(), kiosk)
		if err == nil && c == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: contiguous %d, %v after 30s; want %d", what, c, err, want)
		}
		time.Sleep(20 * time.Millisecond)
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
