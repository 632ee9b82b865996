package alerts

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 2, 8, 0, 0, 0, 0, time.UTC)

// env is a follower on a fresh hub.db and console.db, on a fake clock,
// with no console: nobody watches.
type env struct {
	rec   *records.SQLite
	store *operators.Store
	clock *clock.Fake
	f     *Follower
}

func newEnv(tb testing.TB, w Watcher) *env {
	tb.Helper()
	e := &env{clock: clock.NewFake(t0)}
	var err error
	if e.rec, err = records.Open(filepath.Join(tb.TempDir(), "hub.db")); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.rec.Close() })
	if e.store, err = operators.Open(filepath.Join(tb.TempDir(), operators.FileName), e.clock); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.store.Close() })
	if e.f, err = New(Config{Records: e.rec, Store: e.store, Clock: e.clock, Watcher: w}); err != nil {
		tb.Fatal(err)
	}
	return e
}

func (e *env) poll(tb testing.TB) int {
	tb.Helper()
	n, err := e.f.Poll(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// open returns the kinds of the open alerts, sorted.
func (e *env) open(tb testing.TB) []string {
	tb.Helper()
	list, err := e.store.Alerts(tb.Context(), 100, operators.StateOpen)
	if err != nil {
		tb.Fatal(err)
	}
	var kinds []string
	for _, a := range list {
		kinds = append(kinds, a.Kind)
	}
	slices.Sort(kinds)
	return kinds
}

// saveEntries stores entries from gate-1 of huamu-001, seqs from 1.
func saveEntries(tb testing.TB, s *records.SQLite, received time.Time, es ...protocol.Entry) {
	tb.Helper()
	b := protocol.Batch{Kiosk: "gate-1", Site: "huamu-001", Sent: received}
	for i, e := range es {
		e.Kiosk, e.Seq = "gate-1", uint64(i+1)
		e.ID = fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", i+1)
		if e.Time.IsZero() {
			e.Time = received.Add(-time.Minute)
		}
		b.Entries = append(b.Entries, e)
	}
	if _, err := s.SaveBatch(tb.Context(), b, received); err != nil {
		tb.Fatal(err)
	}
}
