package alerts

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/clock"
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
