package records

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/pgtest"
	"github.com/gatepost/gatepost/protocol"
)

// TestReplicasStoreOverlappingBatchesOnce: two stores on one PostgreSQL
// database (two hub replicas) save overlapping batches of the same kiosks
// at once, alone and in groups whose kiosks come in opposite orders, as
// a broker handing a kiosk's resent batches to either replica does.
// Every entry is stored once, no conflict is invented, and no result's
// Contiguous is below what a result returned before that save began
// (committed) had reported; the month counts equal a fresh count.
func TestReplicasStoreOverlappingBatchesOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	replicas := []*SQLite{openAt(t, url), openAt(t, url)}
	const n, size, step = 120, 12, 6 // batches 1..12, 7..18, ...: each entry in two
	kiosks := []string{"gate-1", "gate-2"}
	var windows [][]uint64
	for from := uint64(1); from <= n; from += step {
		windows = append(windows, span(from, min(from+size-1, n)))
	}
	var (
		committed [2]atomic.Uint64 // per kiosk: the highest Contiguous a finished save reported
		inserted  [2]atomic.Int64
		wg        sync.WaitGroup
	)
	check := func(k int, floor uint64, saved Saved, err error) {
		if err != nil {
			t.Errorf("%s: %v", kiosks[k], err)
			return
		}
		if saved.Conflicts != 0 {
			t.Errorf("%s: %d conflicts between copies of the same entries", kiosks[k], saved.Conflicts)
		}
		if saved.Contiguous < floor {
			t.Errorf("%s: Contiguous %d, below the %d a save committed before this one began", kiosks[k], saved.Contiguous, floor)
		}
		inserted[k].Add(int64(saved.Inserted))
		for {
			c := committed[k].Load()
			if saved.Contiguous <= c || committed[k].CompareAndSwap(c, saved.Contiguous) {
				return
			}
		}
	}
	for r, s := range replicas {
		// One replica saves each kiosk's batches alone, one at a time.
		wg.Go(func() {
			for _, w := range windows {
				k := (r + len(w)) % 2
				floor := committed[k].Load()
				saved, err := s.SaveBatch(t.Context(), mixedBatch(kiosks[k], "huamu-00"+string(rune('1'+k)), w...), t0)
				check(k, floor, saved, err)
			}
		})
		// And in groups of both kiosks, in the opposite order on the other
		// replica, the windows walked from the end.
		wg.Go(func() {
			for i := range windows {
				w := windows[len(windows)-1-i]
				group := []protocol.Batch{mixedBatch(kiosks[0], "huamu-001", w...), mixedBatch(kiosks[1], "huamu-002", w...)}
				if r == 1 {
					group[0], group[1] = group[1], group[0]
				}
				floors := [2]uint64{committed[0].Load(), committed[1].Load()}
				out, err := s.SaveBatches(t.Context(), group, t0.Add(time.Second))
				if err != nil {
					t.Errorf("SaveBatches: %v", err)
					continue
				}
				for j, g := range out {
					k := 0
					if group[j].Kiosk == kiosks[1] {
						k = 1
					}
					check(k, floors[k], g.Saved, g.Err)
				}
			}
		})
	}
	wg.Wait()
	s := replicas[0]
	for k, kiosk := range kiosks {
		if got := inserted[k].Load(); got != n {
			t.Errorf("%s: the saves inserted %d entries in all, want %d: each once", kiosk, got, n)
		}
		held, err := s.Entries(t.Context(), Query{Kiosk: kiosk})
		if err != nil || len(held) != n {
			t.Errorf("%s: %d entries held, %v; want %d", kiosk, len(held), err, n)
		}
		if c, err := s.Contiguous(t.Context(), kiosk); err != nil || c != n {
			t.Errorf("%s: Contiguous = %d, %v; want %d", kiosk, c, err, n)
		}
	}
	assertRollup(t, s, "after two replicas saved at once")
}

// TestLockBatchesHoldsEachLockToTheCommit: a transaction storing batches
// of two kiosks over two compound days holds one lock per kiosk, each
// once, until it ends.
func TestLockBatchesHoldsEachLockToTheCommit(t *testing.T) {
	t.Parallel()
	s := openAt(t, pgtest.Database(t))
	advisory := func() int {
		var n int
		if err := s.read.QueryRow(t.Context(), `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	b1 := mixedBatch("gate-1", "huamu-001", span(1, 12)...) // 23:47 to 01:04: two days
	b2 := mixedBatch("gate-2", "huamu-001", span(1, 12)...)
	tx, err := s.write.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := lockBatches(t.Context(), cachedTx{tx, s.stmts}, s.dialect, b1, b2, b1); err != nil {
		t.Fatal(err)
	}
	if n := advisory(); n != 2 {
		t.Errorf("%d advisory locks held, want 2: one per kiosk, none for the compound's days", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := advisory(); n != 0 {
		t.Errorf("%d advisory locks held after the commit, want none", n)
	}
}

// TestGatesOfOneCompoundStoreAtOnce: while one replica's group commit
// holds gate-1's lock and has stored its entries, not yet its counts nor
// its commit, another replica stores a batch of gate-2, same compound,
// same days, without waiting for it; and the month's counts then hold
// both.
func TestGatesOfOneCompoundStoreAtOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	r1, r2 := openAt(t, url), openAt(t, url)
	b1 := mixedBatch("gate-1", "huamu-001", span(1, 12)...) // 23:47 to 01:04: two days
	b2 := mixedBatch("gate-2", "huamu-001", span(1, 12)...)
	bodies, err := canonicalBodies(b1)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := r1.write.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	q := cachedTx{tx, r1.stmts}
	if err := lockBatches(t.Context(), q, r1.dialect, b1); err != nil {
		t.Fatal(err)
	}
	counts := siteDayCounts{}
	if _, err := saveBatch(t.Context(), q, b1, bodies, t0.UnixNano(), DefaultSeqWindow, counts); err != nil {
		t.Fatal(err)
	}
	// A deadline only for a failure to be reported, not waited for.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	saved, err := r2.SaveBatch(ctx, b2, t0)
	if err != nil {
		t.Fatalf("gate-2 while gate-1's group is open on another replica: %v (it waited for that group)", err)
	}
	if saved.Inserted != 12 || saved.Contiguous != 12 {
		t.Errorf("gate-2: %+v, want 12 inserted and contiguous", saved)
	}
	if err := counts.write(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	assertRollup(t, r1, "after two gates of one compound stored at once")
}

// TestReplicasCountOneCompoundAtOnce: two replicas, each storing three
// groups at a time, each group of four gates of its own, one in each of
// the same four compounds, over two days: the groups hold no kiosk in
// common, so they run at once and meet only on the compounds' counts. No
// transaction fails (PostgreSQL breaks a cycle of waits by failing one)
// and the month's counts equal a fresh count.
func TestReplicasCountOneCompoundAtOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	replicas := []*SQLite{openAt(t, url), openAt(t, url)}
	const workers, compounds, n, size = 3, 4, 120, 12
	var wg sync.WaitGroup
	for r, s := range replicas {
		for w := range workers {
			wg.Go(func() {
				rnd := rand.New(rand.NewPCG(uint64(r), uint64(w)))
				for from := uint64(1); from <= n; from += size {
					var group []protocol.Batch
					for c := range compounds {
						kiosk := fmt.Sprintf("gate-%d-%d-%d", r, w, c)
						group = append(group, mixedBatch(kiosk, fmt.Sprintf("huamu-%03d", c+1), span(from, from+size-1)...))
					}
					rnd.Shuffle(len(group), func(i, j int) { group[i], group[j] = group[j], group[i] })
					out, err := s.SaveBatches(t.Context(), group, t0)
					if err != nil {
						t.Errorf("replica %d: SaveBatches: %v", r+1, err)
						return
					}
					for _, g := range out {
						if g.Err != nil {
							t.Errorf("replica %d: %v", r+1, g.Err)
						}
					}
				}
			})
		}
	}
	wg.Wait()
	for r := range replicas {
		for w := range workers {
			for c := range compounds {
				kiosk := fmt.Sprintf("gate-%d-%d-%d", r, w, c)
				if got, err := replicas[1-r].Contiguous(t.Context(), kiosk); err != nil || got != n {
					t.Errorf("%s: Contiguous = %d, %v; want %d", kiosk, got, err, n)
				}
			}
		}
	}
	assertRollup(t, replicas[0], "after two replicas stored gates of the same compounds at once")
}

// TestReplicasIssueDownlinksApart: two stores on one database issue
// downlinks of one kind for one compound at once, for the whole compound
// and for single kiosks: every downlink gets a version of its own, one
// above the last, as on one hub.
func TestReplicasIssueDownlinksApart(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	replicas := []*SQLite{openAt(t, url), openAt(t, url)}
	const each = 15
	var (
		mu       sync.Mutex
		versions = map[uint64]int{}
		wg       sync.WaitGroup
	)
	for r, s := range replicas {
		for _, kiosk := range []string{"", "gate-" + string(rune('1'+r))} {
			wg.Go(func() {
				for range each {
					d, err := s.IssueDownlink(t.Context(), "huamu-001", kiosk, protocol.DownlinkConfig, []byte(`{"fever_c":37.3}`), t0)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					versions[d.Version]++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for v := uint64(1); v <= 4*each; v++ {
		if versions[v] != 1 {
			t.Errorf("version %d issued %d times, want once (versions %v)", v, versions[v], versions)
		}
	}
}

// TestBusyKioskIsLeftForALaterGroup: while another replica's group holds
// gate-1's lock, a group of gate-1 and gate-2 that may leave gate-1
// stores gate-2 at once and leaves gate-1, stored nothing of it; a group
// that must wait for gate-1 waits (pg_locks shows it waiting) until the
// other commits, then stores it; and a group that could lock no kiosk
// waits rather than store nothing. On SQLite nothing is ever left.
func TestBusyKioskIsLeftForALaterGroup(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		s, _ := openStore(t)
		out, err := s.SaveBatchesOrDefer(t.Context(), []protocol.Batch{batch("gate-1", 1), batch("gate-2", 1)}, t0, []bool{false, false})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range out {
			if r.Busy || r.Err != nil || r.Saved.Inserted != 1 {
				t.Errorf("batch %d: %+v, want saved", i, r)
			}
		}
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		url := pgtest.Database(t)
		r1, r2 := openAt(t, url), openAt(t, url)
		// r1's group holds gate-1 and waits to commit.
		tx, err := r1.write.BeginTx(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if err := lockBatches(t.Context(), cachedTx{tx, r1.stmts}, r1.dialect, batch("gate-1", 1)); err != nil {
			t.Fatal(err)
		}
		// A deadline only for a failure to be reported, not waited for.
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		out, err := r2.SaveBatchesOrDefer(ctx, []protocol.Batch{batch("gate-1", 1), batch("gate-2", 1)}, t0, []bool{false, false})
		if err != nil {
			t.Fatalf("a group that may leave gate-1: %v (it waited for the other group)", err)
		}
		if !out[0].Busy || out[0].Err != nil || out[0].Saved.Inserted != 0 {
			t.Errorf("gate-1: %+v, want left busy", out[0])
		}
		if out[1].Busy || out[1].Err != nil || out[1].Saved.Inserted != 1 || out[1].Saved.Contiguous != 1 {
			t.Errorf("gate-2: %+v, want stored", out[1])
		}
		var held int
		if err := r2.read.QueryRow(t.Context(), `SELECT count(*) FROM entries WHERE kiosk = 'gate-1'`).Scan(&held); err != nil {
			t.Fatal(err)
		}
		if held != 0 {
			t.Errorf("%d entries of gate-1 stored by the group that left it", held)
		}

		// Waiting: for a batch that must, and for a group that could lock
		// nothing.
		for _, wait := range [][]bool{{true, false}, {false}} {
			group := []protocol.Batch{batch("gate-1", 1), batch("gate-2", 2)}[:len(wait)]
			done := make(chan []Group, 1)
			go func() {
				out, err := r2.SaveBatchesOrDefer(ctx, group, t0, wait)
				if err != nil {
					t.Errorf("wait %v: %v", wait, err)
				}
				done <- out
			}()
			waitForLockWaiter(t, r2, ctx)
			select {
			case out := <-done:
				t.Fatalf("wait %v: returned %+v while gate-1's lock was held", wait, out)
			default:
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			out := <-done
			if out == nil {
				return
			}
			if out[0].Busy || out[0].Err != nil || out[0].Saved.Contiguous != 1 {
				t.Errorf("wait %v: gate-1 %+v, want stored once the other group committed", wait, out[0])
			}
			// Hold gate-1 again for the next case.
			if tx, err = r1.write.BeginTx(t.Context(), nil); err != nil {
				t.Fatal(err)
			}
			if err := lockBatches(t.Context(), cachedTx{tx, r1.stmts}, r1.dialect, batch("gate-1", 1)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// waitForLockWaiter polls pg_locks until a session of s's database waits
// for an advisory lock, or ctx ends.
func waitForLockWaiter(t *testing.T, s *SQLite, ctx context.Context) {
	t.Helper()
	for {
		var n int
		if err := s.read.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("no transaction came to wait for gate-1's lock")
		case <-time.After(10 * time.Millisecond):
		}
	}
}
