package alerts

import (
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/protocol"
)

// Refusals reported by ingest become console alerts at the next poll: one
// per kiosk and reason per ten minutes, each saying what to do.
func TestRefusalsRaiseAlerts(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	refusals := NewRefusals(env.clock)
	env.f.cfg.Refusals = refusals

	refusals.Report("huamu-001", "gate-9", protocol.RefusedNotEnrolled, "")
	refusals.Report("huamu-001", "gate-9", protocol.RefusedNotEnrolled, "")
	refusals.Report("huamu-001", "gate-1", protocol.RefusedIdentity, "batch from huamu-001/gate-2 on the topic of huamu-001/gate-1")
	env.poll(t)
	list, err := env.store.Alerts(t.Context(), 10, operators.StateOpen)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("open alerts = %+v, want 2: one for gate-9 however often reported, one for gate-1", list)
	}
	byKiosk := map[string]operators.Alert{}
	for _, a := range list {
		if a.Kind != protocol.AlertRefused {
			t.Errorf("alert %+v: kind %q, want %q", a, a.Kind, protocol.AlertRefused)
		}
		byKiosk[a.Kiosk] = a
	}
	if d := byKiosk["gate-9"].Detail; !strings.Contains(d, "hub kiosks enroll") {
		t.Errorf("not-enrolled alert detail %q does not say how to enroll", d)
	}
	if d := byKiosk["gate-1"].Detail; !strings.Contains(d, "retire it and enroll it again") || !strings.Contains(d, "gate-2 on the topic") {
		t.Errorf("identity alert detail %q lacks the action or the finding", d)
	}

	env.clock.Advance(time.Minute)
	refusals.Report("huamu-001", "gate-9", protocol.RefusedNotEnrolled, "")
	env.poll(t)
	if got := env.open(t); len(got) != 2 {
		t.Errorf("a report within the same ten minutes: open alerts %v, want still 2", got)
	}
	env.clock.Advance(RefusedEvery)
	refusals.Report("huamu-001", "gate-9", protocol.RefusedNotEnrolled, "")
	env.poll(t)
	if got := env.open(t); len(got) != 3 {
		t.Errorf("a report ten minutes later: open alerts %v, want a third", got)
	}
}

// Report never blocks and holds a bounded number; what is beyond is lost
// to the alerts (counted in the log), not to the hub.
func TestRefusalsBounded(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	r := NewRefusals(env.clock)
	for i := range maxPending + 10 {
		r.Report("huamu-001", "gate-9", protocol.RefusedRateLimited, strings.Repeat("x", i%3))
	}
	list, lost := r.take()
	if len(list) != maxPending || lost != 10 {
		t.Errorf("take = %d pending, %d lost; want %d and 10", len(list), lost, maxPending)
	}
	if list, lost := r.take(); len(list) != 0 || lost != 0 {
		t.Errorf("second take = %d, %d; want nothing", len(list), lost)
	}
}
