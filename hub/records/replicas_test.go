package records

import (
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
// of two kiosks over two compound days holds one lock per kiosk and per
// compound day, each once, until it ends.
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
	if n := advisory(); n != 2+2 {
		t.Errorf("%d advisory locks held, want 4 (two kiosks, one compound on two days)", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := advisory(); n != 0 {
		t.Errorf("%d advisory locks held after the commit, want none", n)
	}
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
