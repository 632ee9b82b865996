package ingest

import (
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
)

// One line per kiosk and reason per window; the next line carries the
// count of those held back.
func TestQuietOneLinePerKeyPerWindow(t *testing.T) {
	clk := clock.NewFake(hubTime)
	q := newQuiet(time.Minute, clk)
	type want struct {
		ok         bool
		suppressed uint64
	}
	check := func(what, kiosk, reason string, w want) {
		t.Helper()
		if ok, n := q.allow(kiosk, reason); ok != w.ok || n != w.suppressed {
			t.Errorf("%s: allow(%s, %s) = %v, %d; want %v, %d", what, kiosk, reason, ok, n, w.ok, w.suppressed)
		}
	}
	check("first", "gate-1", "retired", want{true, 0})
	for range 5 {
		check("within the minute", "gate-1", "retired", want{false, 0})
	}
	check("another reason", "gate-1", "seq_window", want{true, 0})
	check("another kiosk", "gate-2", "retired", want{true, 0})
	clk.Advance(59 * time.Second)
	check("a second before the minute", "gate-1", "retired", want{false, 0})
	clk.Advance(time.Second)
	check("the minute over", "gate-1", "retired", want{true, 6})
	check("just after", "gate-1", "retired", want{false, 0})
	clk.Advance(time.Hour)
	check("an hour on", "gate-1", "retired", want{true, 1})
	clk.Advance(time.Hour)
	check("nothing held back", "gate-1", "retired", want{true, 0})
}

// The keys kept are bounded: past the bound, keys whose window is over
// are forgotten and new keys still get their line.
func TestQuietBounded(t *testing.T) {
	clk := clock.NewFake(hubTime)
	q := newQuiet(time.Minute, clk)
	for i := range quietKeys {
		q.allow(string(rune('a'+i%26))+string(rune(i)), "bad_message")
	}
	clk.Advance(time.Minute)
	if ok, _ := q.allow("new", "bad_message"); !ok {
		t.Error("a new key past the bound was held back")
	}
	if len(q.keys) > quietKeys {
		t.Errorf("%d keys kept, want at most %d", len(q.keys), quietKeys)
	}
}
