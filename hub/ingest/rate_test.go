package ingest

import (
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
)

// A kiosk gets its burst at once, then its rate; refusals beyond the
// burst within a minute are a flood, reported once.
func TestLimiterBurstRateAndFlood(t *testing.T) {
	clk := clock.NewFake(hubTime)
	l := newLimiter(10, 20, clk)
	for i := range 20 {
		if ok, _ := l.take("huamu-1/gate-1"); !ok {
			t.Fatalf("take %d within the burst of 20 refused", i+1)
		}
	}
	floods := 0
	for i := range 50 {
		ok, flood := l.take("huamu-1/gate-1")
		if ok {
			t.Fatalf("take %d beyond the burst allowed with the clock stopped", 21+i)
		}
		if flood {
			floods++
			if i != 20 {
				t.Errorf("flood reported at refusal %d, want at the 21st (burst 20 exceeded)", i+1)
			}
		}
	}
	if floods != 1 {
		t.Errorf("flood reported %d times, want once", floods)
	}
	if ok, _ := l.take("huamu-1/gate-2"); !ok {
		t.Error("another kiosk refused: the buckets are per kiosk")
	}
	clk.Advance(500 * time.Millisecond) // 5 tokens at 10/s
	for i := range 5 {
		if ok, _ := l.take("huamu-1/gate-1"); !ok {
			t.Errorf("take %d after half a second at 10/s refused", i+1)
		}
	}
	if ok, _ := l.take("huamu-1/gate-1"); ok {
		t.Error("a sixth take after half a second at 10/s allowed")
	}
	clk.Advance(time.Hour)
	for i := range 20 {
		if ok, _ := l.take("huamu-1/gate-1"); !ok {
			t.Fatalf("take %d after an hour refused: the bucket refills to its burst", i+1)
		}
	}
	if ok, _ := l.take("huamu-1/gate-1"); ok {
		t.Error("the bucket refilled beyond its burst")
	}
}

// Allow limits a kiosk's batches and its alerts apart: a flood of
// batches leaves its alerts untouched. Refusals are counted, and a flood
// raises the alarm once.
func TestAllowBatchesAndAlertsApart(t *testing.T) {
	h := newHarness(t)
	h.in.BatchRate, h.in.BatchBurst = 1, 10
	h.in.AlertRate, h.in.AlertBurst = 1, 30
	var alarms []string
	h.in.Alarm = func(site, kiosk, reason, detail string) { alarms = append(alarms, kiosk+" "+reason) }
	entries, alerts := protocol.EntriesTopic(site, kiosk), protocol.AlertsTopic(site, kiosk)
	allowed := 0
	for range 100 {
		if h.in.Allow(entries) {
			allowed++
		}
	}
	if allowed != 10 {
		t.Errorf("%d of 100 batches allowed at once, want the burst of 10", allowed)
	}
	for i := range 30 {
		if !h.in.Allow(alerts) {
			t.Fatalf("alert %d refused after a flood of batches", i+1)
		}
	}
	if !h.in.Allow(protocol.StatusTopic(site, "gate-2")) {
		t.Error("another kiosk's status refused")
	}
	if !h.in.Allow("not/a/kiosk/topic") {
		t.Error("a topic that is no kiosk's was refused by the rate limit; Decode refuses it")
	}
	st := h.in.Stats()
	if got := st.Refused[protocol.RefusedRateLimited]; got != 90 || st.Rejected != 90 {
		t.Errorf("rate_limited = %d, Rejected = %d; want 90", got, st.Rejected)
	}
	if len(alarms) != 1 || alarms[0] != kiosk+" "+protocol.RefusedRateLimited {
		t.Errorf("alarms = %q, want one flood alarm for %s", alarms, kiosk)
	}
}

// The counters have a slot for every reason.
func TestReasonCountersCoverEveryReason(t *testing.T) {
	var c reasonCounters
	if len(c) != len(protocol.RefusalReasons) {
		t.Fatalf("reasonCounters has %d slots, protocol.RefusalReasons %d", len(c), len(protocol.RefusalReasons))
	}
	for _, r := range protocol.RefusalReasons {
		c.add(r)
		if advice[r] == "" {
			t.Errorf("no advice for %s in the log", r)
		}
	}
	for r, n := range c.snapshot() {
		if n != 1 {
			t.Errorf("%s counted %d, want 1", r, n)
		}
	}
}
