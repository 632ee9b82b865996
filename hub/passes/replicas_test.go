package passes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// The tests here open two Stores on one database, as two hub replicas
// (or a hub and a command) do, and change it from both at once.

// clashingDraws gives a store's pass ids as a hub that keeps drawing ids
// another hub draws too: every other draw is one of a sequence every
// store draws from ("0000001", "0000002", …), the others are the store's
// own (own+"000001", …). So two stores issuing at once try the same ids,
// but never ten in a row. draws counts them.
func clashingDraws(own string, draws *atomic.Int64) func(int) string {
	return func(n int) string {
		k := draws.Add(1)
		if k%2 == 1 {
			return fmt.Sprintf("%0*d", n, (k+1)/2)
		}
		return own + fmt.Sprintf("%0*d", n-1, k/2)
	}
}

// Two stores on one database issuing at once never give two passes one
// id: an id another store is issuing (committed or not) is skipped, and
// every pass holds the id it was signed with.
func TestTwoStoresIssueWithoutClashingIDs(t *testing.T) {
	eachEngine(t, func(t *testing.T, e testEngine) {
		ctx := t.Context()
		a, c, dir, dsn := e.openShared(t)
		b := openAt(t, dsn, dir, c)
		if _, err := a.InitKey(ctx); err != nil {
			t.Fatal(err)
		}
		var drawsA, drawsB atomic.Int64
		a.draw, b.draw = clashingDraws("A", &drawsA), clashingDraws("B", &drawsB)
		const workers, each = 4, 10
		var wg sync.WaitGroup
		errs := make(chan error, 2*workers*each)
		for _, s := range []*Store{a, b} {
			for w := range workers {
				wg.Go(func() {
					for i := range each {
						if _, err := s.Issue(ctx, request(fmt.Sprintf("%d-%d", w, i), "王小明")); err != nil {
							errs <- err
						}
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("Issue from two stores at once: %v", err)
		}
		all, err := a.List(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2*workers*each {
			t.Fatalf("%d passes stored, want %d", len(all), 2*workers*each)
		}
		ids := map[string]bool{}
		for _, p := range all {
			sp, err := protocol.ParsePass(p.Token)
			if err != nil || sp.ID != p.ID {
				t.Errorf("pass %s holds a token for %q (%v)", p.ID, sp.ID, err)
			}
			ids[p.ID] = true
		}
		if len(ids) != len(all) {
			t.Errorf("%d distinct ids among %d passes", len(ids), len(all))
		}
		if drawn := drawsA.Load() + drawsB.Load(); drawn <= int64(len(all)) {
			t.Errorf("%d ids drawn for %d passes: the stores never tried one id, so nothing was tested", drawn, len(all))
		}
	})
}

// Key changes from two stores run one at a time: of two first keys made
// at once one is refused, rotations at once each make their own key, and
// one key is current at the end.
func TestKeyChangesFromTwoStoresRunOneAtATime(t *testing.T) {
	eachEngine(t, func(t *testing.T, e testEngine) {
		ctx := t.Context()
		a, c, dir, dsn := e.openShared(t)
		b := openAt(t, dsn, dir, c)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range []*Store{a, b} {
			wg.Go(func() { _, errs[i] = s.InitKey(ctx) })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !errors.Is(errors.Join(errs...), ErrKeyExists) {
			t.Fatalf("InitKey from two stores at once = %v; want one key made and the other refused with ErrKeyExists", errs)
		}
		const rotations = 3
		rotated := make(chan error, 2*rotations)
		for _, s := range []*Store{a, b} {
			wg.Go(func() {
				for range rotations {
					_, err := s.RotateKey(ctx)
					rotated <- err
				}
			})
		}
		wg.Wait()
		close(rotated)
		for err := range rotated {
			if err != nil {
				t.Errorf("RotateKey from two stores at once: %v", err)
			}
		}
		keys := mustKeys(t, a)
		var ids, current []string
		for _, k := range keys {
			ids = append(ids, k.ID)
			if k.Current {
				current = append(current, k.ID)
			}
		}
		slices.Sort(ids)
		if want := []string{"k1", "k2", "k3", "k4", "k5", "k6", "k7"}; !slices.Equal(ids, want) || len(current) != 1 {
			t.Fatalf("keys after 6 rotations at once: %v, current %v; want %v and one current", ids, current, want)
		}
		if ks, err := b.KeySet(ctx); err != nil || ks.Version != 1+2*rotations {
			t.Errorf("key set = version %d, %v; want %d (the first key and each rotation)", ks.Version, err, 1+2*rotations)
		}
		for _, s := range []*Store{a, b} {
			if p, err := s.Issue(ctx, request("1-101", "王小明")); err != nil || p.Key != current[0] {
				t.Errorf("Issue after the rotations = %s, %v; want signed by %s", p.Key, err, current[0])
			}
		}
		// A hub on the same database with a keys folder of its own has
		// none of those private keys: it says so, and what to do.
		other := t.TempDir()
		lone := openAt(t, dsn, other, c)
		_, err := lone.Issue(ctx, request("1-102", "李明"))
		if err == nil || !strings.Contains(err.Error(), "made by another hub") || !strings.Contains(err.Error(), "keys folder") {
			t.Errorf("Issue from a hub without the current key's file = %v; want it to say the key is another hub's", err)
		}
	})
}

// Status changes from two stores at once are each counted in the status
// list's version and each listed.
func TestStatusChangesFromTwoStoresAreEachCounted(t *testing.T) {
	eachEngine(t, func(t *testing.T, e testEngine) {
		ctx := t.Context()
		a, c, dir, dsn := e.openShared(t)
		b := openAt(t, dsn, dir, c)
		if _, err := a.InitKey(ctx); err != nil {
			t.Fatal(err)
		}
		const n = 10
		var ps []Pass
		for i := range n {
			p, err := a.Issue(ctx, request(fmt.Sprintf("3-%d", i), "王小明"))
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		before, err := a.StatusList(ctx, "huamu-1")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i, p := range ps {
			s := []*Store{a, b}[i%2]
			wg.Go(func() {
				if err := s.Revoke(ctx, p.ID, "moved out"); err != nil {
					t.Errorf("Revoke(%s) = %v", p.ID, err)
				}
			})
		}
		wg.Wait()
		after, err := b.StatusList(ctx, "huamu-1")
		if err != nil {
			t.Fatal(err)
		}
		if after.Version != before.Version+n || len(after.Entries) != n {
			t.Errorf("status list after %d revocations at once: version %d (was %d), %d entries", n, after.Version, before.Version, len(after.Entries))
		}
	})
}

// A key file left by a crash between writing it and recording the key is
// not a key: the next key of that name replaces it, and signs.
func TestKeyFileLeftByACrashIsReplaced(t *testing.T) {
	eachEngine(t, func(t *testing.T, e testEngine) {
		ctx := t.Context()
		s, _, dir := e.open(t)
		orphan := filepath.Join(dir, KeysDir, "k1.key")
		if err := os.WriteFile(orphan, []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.InitKey(ctx); err != nil {
			t.Fatalf("InitKey beside an unrecorded k1.key = %v", err)
		}
		if p, err := s.Issue(ctx, request("3-502", "王小明")); err != nil || p.Key != "k1" {
			t.Fatalf("Issue = %+v, %v; want it signed by the new k1", p, err)
		}
	})
}

// Passes issued while another store rotates the key stay good for their
// whole life: every retired key is accepted (its not_after) at least
// until the last pass it signed expires, whichever store issued it.
func TestIssuingWhileAnotherStoreRotates(t *testing.T) {
	eachEngine(t, func(t *testing.T, e testEngine) {
		ctx := t.Context()
		a, c, dir, dsn := e.openShared(t)
		b := openAt(t, dsn, dir, c)
		if _, err := a.InitKey(ctx); err != nil {
			t.Fatal(err)
		}
		var days atomic.Int64 // each pass ends a day after the one before
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := range 6 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					req := request(fmt.Sprintf("%d-%d", w, i), "王小明")
					req.ValidUntil = t0.AddDate(0, 0, int(days.Add(1)))
					if _, err := a.Issue(ctx, req); err != nil {
						t.Errorf("Issue while rotating: %v", err)
						return
					}
				}
			})
		}
		for range 8 {
			if _, err := b.RotateKey(ctx); err != nil {
				t.Errorf("RotateKey while issuing: %v", err)
			}
		}
		close(stop)
		wg.Wait()
		all, err := a.List(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		last := map[string]time.Time{}
		for _, p := range all {
			if p.ValidUntil.After(last[p.Key]) {
				last[p.Key] = p.ValidUntil
			}
		}
		for _, k := range mustKeys(t, a) {
			if k.Current || last[k.ID].IsZero() {
				continue
			}
			if k.NotAfter == nil || k.NotAfter.Before(last[k.ID]) {
				t.Errorf("retired key %s is accepted until %v, but a pass it signed lasts until %v", k.ID, k.NotAfter, last[k.ID])
			}
		}
		t.Logf("%d passes issued during 8 rotations", len(all))
	})
}
