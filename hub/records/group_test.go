package records

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// TestSaveBatchesGroup: batches of many kiosks in one group are stored,
// each with its own result; two batches of one kiosk in a group get
// results that move forward; the same group again is all duplicates.
func TestSaveBatchesGroup(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		var group []protocol.Batch
		for k := range 20 {
			kiosk := fmt.Sprintf("gate-%d", k)
			es := chained(kiosk, 10)
			group = append(group, batchOf(es[:5]...), batchOf(es[5:]...))
		}
		got, err := s.SaveBatches(t.Context(), group, t0)
		if err != nil {
			t.Fatalf("SaveBatches: %v", err)
		}
		for i, g := range got {
			if g.Err != nil {
				t.Fatalf("batch %d: %v", i, g.Err)
			}
			want := uint64(5)
			if i%2 == 1 {
				want = 10
			}
			if g.Saved.Inserted != 5 || g.Saved.Contiguous != want || !g.Saved.HasHead {
				t.Errorf("batch %d (%s): inserted %d, contiguous %d, head %v; want 5, %d, true",
					i, group[i].Kiosk, g.Saved.Inserted, g.Saved.Contiguous, g.Saved.HasHead, want)
			}
		}
		again, err := s.SaveBatches(t.Context(), group, t0)
		if err != nil {
			t.Fatalf("SaveBatches again: %v", err)
		}
		for i, g := range again {
			if g.Err != nil || g.Saved.Inserted != 0 || g.Saved.Duplicates != 5 {
				t.Errorf("again, batch %d: %+v, err %v; want 5 duplicates", i, g.Saved, g.Err)
			}
		}
		for k := range 20 {
			kiosk := fmt.Sprintf("gate-%d", k)
			if c, err := s.Contiguous(t.Context(), kiosk); err != nil || c != 10 {
				t.Errorf("Contiguous(%s) = %d, %v; want 10", kiosk, c, err)
			}
		}
		assertRollup(t, s, "after a group and the same group again")
	})
}

// TestSaveBatchesRefusesOneAlone: a batch that breaks its chain, one
// beyond the sequence window and one invalid, in a group with good ones,
// are refused each for its reason and store nothing; the good ones, before
// and after them and of the same kiosk, are stored.
func TestSaveBatchesRefusesOneAlone(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		s.SeqWindow = 1000
		// Warm the statement cache first: the refusals below then roll back
		// statements that ran prepared.
		mustSave(t, s, batchOf(chained("gate-z", 3)...), t0)
		if n := len(s.stmts.stmts); n < 5 {
			t.Fatalf("%d statements prepared after a batch, want the write path's", n)
		}
		a, b := chained("gate-a", 6), chained("gate-b", 4)
		forged := b[2]
		forged.Prev = protocol.HashText(protocol.Genesis) // not the hash of entry 2
		far := batch("gate-c", 5000)
		invalid := batch("gate-d", 1)
		invalid.Entries[0].ID = ""
		group := []protocol.Batch{
			batchOf(a[:3]...),
			batchOf(b[:2]...),
			batchOf(forged, b[3]),
			far,
			invalid,
			batchOf(a[3:]...),
		}
		got, err := s.SaveBatches(t.Context(), group, t0)
		if err != nil {
			t.Fatalf("SaveBatches: %v", err)
		}
		for i, want := range []error{nil, nil, ErrChain, ErrSeqWindow, protocol.ErrInvalid, nil} {
			switch {
			case want == nil && got[i].Err != nil:
				t.Errorf("batch %d refused: %v", i, got[i].Err)
			case want != nil && !errors.Is(got[i].Err, want):
				t.Errorf("batch %d: err %v, want %v", i, got[i].Err, want)
			}
		}
		if got[5].Saved.Contiguous != 6 {
			t.Errorf("gate-a's second batch: contiguous %d, want 6", got[5].Saved.Contiguous)
		}
		for kiosk, want := range map[string]uint64{"gate-a": 6, "gate-b": 2, "gate-c": 0, "gate-d": 0} {
			if c, err := s.Contiguous(t.Context(), kiosk); err != nil || c != want {
				t.Errorf("Contiguous(%s) = %d, %v; want %d", kiosk, c, err, want)
			}
		}
		var n int
		if err := s.read.DB.QueryRow(`SELECT count(*) FROM entries WHERE kiosk IN ('gate-b', 'gate-c', 'gate-d')`).Scan(&n); err != nil || n != 2 {
			t.Errorf("entries of gate-b, c and d = %d, %v; want 2 (gate-b's first batch only)", n, err)
		}
		var batches int
		if err := s.read.DB.QueryRow(`SELECT batches FROM kiosks WHERE kiosk = 'gate-b'`).Scan(&batches); err != nil || batches != 1 {
			t.Errorf("gate-b's batch count = %d, %v; want 1 (the refused batch undone)", batches, err)
		}
		// The month's counts, written once for the group, hold the kept
		// batches' entries and none of the refused ones'.
		assertRollup(t, s, "after a group with refused batches")
	})
}

// TestSaveBatchesStorageFailureStoresNothing: a cancelled context fails
// the whole group and nothing of it is held, so no kiosk is acked for it.
func TestSaveBatchesStorageFailureStoresNothing(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.SaveBatches(ctx, []protocol.Batch{batch("gate-1", 1, 2), batch("gate-2", 1)}, t0); err == nil {
			t.Fatal("SaveBatches with a cancelled context: no error")
		}
		if c, _ := s.Contiguous(t.Context(), "gate-1"); c != 0 {
			t.Errorf("Contiguous(gate-1) = %d after a failed group, want 0", c)
		}
	})
}

// TestWritePathStatementsArePrepared: after a commit the write path's
// statements are prepared, bound for the engine, and later batches run
// through them, on both engines.
func TestWritePathStatementsArePrepared(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		mustSave(t, s, batch("gate-1", 1, 2), t0)
		if _, err := s.SaveBatches(t.Context(), []protocol.Batch{batch("gate-1", 3), batch("gate-2", 1)}, t0); err != nil {
			t.Fatal(err)
		}
		s.stmts.mu.Lock()
		n, bound := len(s.stmts.stmts), 0
		for q := range s.stmts.stmts {
			if strings.Contains(q, "$1") {
				bound++
			}
		}
		s.stmts.mu.Unlock()
		if n == 0 {
			t.Fatal("no statement prepared after two commits")
		}
		if want := map[bool]int{true: n, false: 0}[s.dialect == postgresDialect]; bound != want {
			t.Errorf("%d of %d prepared statements bound with $1, want %d", bound, n, want)
		}
		if got := mustSave(t, s, batch("gate-1", 4, 5), t0); got.Contiguous != 5 {
			t.Errorf("SaveBatch through the prepared statements = %+v, want contiguous 5", got)
		}
	})
}

// drainGroups makes group commits as an outage's drain does (20 batches
// of 100 entries, 20 kiosks of 5 compounds, each batch in its
// savepoint) on s; save stores the next group and returns how long it
// took.
func drainGroups(b *testing.B, s *SQLite) (save func() time.Duration) {
	seq := map[string]uint64{}
	return func() time.Duration {
		var g []protocol.Batch
		for k := range 20 {
			kiosk := fmt.Sprintf("gate-%d", k)
			from := seq[kiosk] + 1
			seq[kiosk] += 100
			g = append(g, mixedBatch(kiosk, fmt.Sprintf("huamu-%03d", k/4+1), span(from, from+99)...))
		}
		start := time.Now()
		out, err := s.SaveBatches(b.Context(), g, t0)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range out {
			if r.Err != nil || r.Saved.Inserted != 100 {
				b.Fatalf("%+v", r)
			}
		}
		return time.Since(start)
	}
}

// pragma sets a pragma on s's write connection (its only one).
func pragma(b *testing.B, s *SQLite, set string) {
	if _, err := s.write.Exec(b.Context(), `PRAGMA `+set); err != nil {
		b.Fatal(err)
	}
}

// inTurns runs ours and theirs once each per round of b.Loop, who goes
// first alternating, and reports both (ms a group, over groups groups a
// run) and the ratio, in the metrics and in a line saying what each is.
func inTurns(b *testing.B, groups int, ours, theirs func() time.Duration, oursIs, theirsIs, theirsUnit string) {
	inTurnsOf(b, "group of 20 x 100 entries", groups, ours, theirs, oursIs, theirsIs, theirsUnit)
}

// inTurnsOf is inTurns for groups described as what.
func inTurnsOf(b *testing.B, what string, groups int, ours, theirs func() time.Duration, oursIs, theirsIs, theirsUnit string) {
	var o, t time.Duration
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			o += ours()
			t += theirs()
		} else {
			t += theirs()
			o += ours()
		}
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(groups*b.N) }
	b.ReportMetric(per(o), "ms/group")
	b.ReportMetric(per(t), "ms/group-"+theirsUnit)
	b.ReportMetric(float64(t)/float64(o), "x-faster")
	fmt.Printf("%s: %.2f ms %s, %.2f ms %s (%.2fx)\n", what, per(o), oursIs, per(t), theirsIs, float64(t)/float64(o))
}

// BenchmarkGroupTempStore is drainGroups on SQLite with the write
// connection's temporary files in memory (temp_store 2, what Open sets)
// and in a file (1, SQLite's default), group by group in turns; it
// reports both and the ratio:
//
//	go test ./hub/records -run '^$' -bench GroupTempStore -benchtime 200x
func BenchmarkGroupTempStore(b *testing.B) {
	s, _ := openStore(b)
	save := drainGroups(b, s)
	with := func(store int) time.Duration {
		pragma(b, s, fmt.Sprintf("temp_store = %d", store))
		return save()
	}
	inTurns(b, 1, func() time.Duration { return with(2) }, func() time.Duration { return with(1) },
		"with temporary files in memory", "in a file", "file")
	pragma(b, s, "temp_store = 2")
}

// BenchmarkGroupCheckpoint is drainGroups on SQLite with the WAL
// checkpointed after every 10,000 pages written (what Open sets) and
// after every 1,000 (SQLite's default), in blocks of 20 groups in turns
// (a checkpoint's cost depends on the WAL behind it); it reports both
// and the ratio:
//
//	go test ./hub/records -run '^$' -bench GroupCheckpoint -benchtime 20x
func BenchmarkGroupCheckpoint(b *testing.B) {
	s, _ := openStore(b)
	save := drainGroups(b, s)
	block := func(pages int) time.Duration {
		pragma(b, s, fmt.Sprintf("wal_autocheckpoint = %d", pages))
		pragma(b, s, "wal_checkpoint(TRUNCATE)") // each block from an empty WAL
		var d time.Duration
		for range 20 {
			d += save()
		}
		return d
	}
	inTurns(b, 20, func() time.Duration { return block(10000) }, func() time.Duration { return block(1000) },
		"checkpointing every 10,000 pages", "every 1,000", "1000")
	pragma(b, s, "wal_autocheckpoint = 10000")
}

// TestSaveBatchesAfterTheContextEnded: a group whose context has ended
// is not begun, on either engine: an error that says so, and nothing
// stored. On SQLite a group that begins runs detached from its context's
// end (writeContext), keeping its values; on PostgreSQL it keeps the
// context itself.
func TestSaveBatchesAfterTheContextEnded(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		es := chained("gate-1", 2)
		if _, err := s.SaveBatches(ctx, []protocol.Batch{batchOf(es...)}, t0); !errors.Is(err, context.Canceled) {
			t.Fatalf("SaveBatches with an ended context: %v; want context.Canceled", err)
		}
		if _, err := s.SaveBatch(ctx, batchOf(es...), t0); !errors.Is(err, context.Canceled) {
			t.Fatalf("SaveBatch with an ended context: %v; want context.Canceled", err)
		}
		if c, err := s.Contiguous(t.Context(), "gate-1"); err != nil || c != 0 {
			t.Errorf("Contiguous = %d, %v; want 0: nothing stored", c, err)
		}

		type key struct{}
		live, stop := context.WithCancel(context.WithValue(t.Context(), key{}, "v"))
		defer stop()
		wctx, err := s.dialect.writeContext(live)
		if err != nil {
			t.Fatal(err)
		}
		if wctx.Value(key{}) != "v" {
			t.Error("the write context lost the caller's values")
		}
		if detached := wctx.Done() == nil; detached != s.dialect.detach || detached != (s.dialect == sqliteDialect) {
			t.Errorf("write context detached %v; want it on SQLite only", detached)
		}
	})
}
