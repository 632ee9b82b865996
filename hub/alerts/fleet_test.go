package alerts

import (
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records/recordstest"
	"github.com/gatepost/gatepost/protocol"
)

func TestFleetAlerts(t *testing.T) {
	t.Parallel()
	env := newEnv(t, nil)
	recordstest.SaveEntries(t, env.rec, env.clock.Now().Add(-time.Hour), protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAllow})
	if _, err := env.rec.SaveStatus(t.Context(), protocol.Status{Kiosk: "gate-1", Site: "huamu-001", Online: false}, env.clock.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	env.poll(t)
	open, _ := env.store.Alerts(t.Context(), 10, operators.StateOpen)
	if len(open) != 1 || open[0].Kind != protocol.AlertOffline {
		t.Errorf("open alerts = %+v, want gate-1 offline", open)
	}
	// A conflicting duplicate (same number, other content) is a security
	// event: one alert.
	forged := protocol.Batch{Kiosk: "gate-1", Site: "huamu-001", Sent: env.clock.Now(), Entries: []protocol.Entry{{
		Kiosk: "gate-1", Seq: 1, ID: "0190d6e4-7a4b-7cc0-8b8e-00000000ffff", Time: env.clock.Now(),
		Kind: protocol.KindCheck, Decision: protocol.DecisionAllow, Reasons: []string{"forged"}}}}
	if saved, err := env.rec.SaveBatch(t.Context(), forged, env.clock.Now()); err != nil || saved.Conflicts != 1 {
		t.Fatalf("SaveBatch of a conflicting entry = %+v, %v", saved, err)
	}
	// The fleet is looked at every DefaultFleetEvery, not every poll.
	env.poll(t)
	open, _ = env.store.Alerts(t.Context(), 10, operators.StateOpen)
	for _, a := range open {
		if a.Kind == protocol.AlertConflict {
			t.Errorf("a poll within %s of the last fleet check raised %+v", DefaultFleetEvery, a)
		}
	}
	env.clock.Advance(DefaultFleetEvery)
	for range 2 {
		env.poll(t)
	}
	open, _ = env.store.Alerts(t.Context(), 10, operators.StateOpen)
	var conflicts int
	for _, a := range open {
		if a.Kind == protocol.AlertConflict && a.Kiosk == "gate-1" && strings.Contains(a.Detail, "1 more entries refused (1 in all)") {
			conflicts++
		}
	}
	if conflicts != 1 {
		t.Errorf("open alerts = %+v, want one conflict alert for gate-1", open)
	}
	// Closed, it does not come back the next day for the same conflicts.
	for _, a := range open {
		if a.Kind == protocol.AlertConflict {
			if err := env.store.Move(t.Context(), a.ID, operators.StateClosed, "op", "checked the broker's credentials"); err != nil {
				t.Fatal(err)
			}
		}
	}
	env.clock.Advance(25 * time.Hour)
	env.f.conflictsSeen = nil // a hub restart: read back from console.db
	env.poll(t)
	open, _ = env.store.Alerts(t.Context(), 10, operators.StateOpen)
	for _, a := range open {
		if a.Kind == protocol.AlertConflict {
			t.Errorf("the same conflicts alerted again a day later: %+v", a)
		}
	}
}
