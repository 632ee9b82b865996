package alerts

import (
	"slices"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/records/recordstest"
	"github.com/gatepost/gatepost/protocol"
)

// A replica's live view follows what another replica stored and raised:
// from the moment someone watches, each committed entry once and each new
// alert once, raising nothing itself.
func TestFeedFollowsAnotherReplica(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil) // the follower of the replica that leads: no watcher
	w := &watcher{}
	fd := &Feed{Records: e.rec, Alerts: e.store, Watcher: w, Clock: e.clock, Settle: 10 * time.Second}

	// Before anyone watches: nothing is read, and what came before is
	// not replayed when someone starts.
	recordstest.SaveEntries(t, e.rec, t0.Add(-time.Hour),
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAlert, Reasons: []string{protocol.ReasonFeverConfirmed}})
	e.poll(t)
	if err := fd.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.watching = true
	w.mu.Unlock()
	if err := fd.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(w.entries) != 0 || len(w.alerts) != 0 {
		t.Fatalf("a view opened after the fact got entries %v and alerts %q, want none", w.entries, w.alerts)
	}

	e.clock.Advance(time.Second)
	late := protocol.Batch{Kiosk: "gate-9", Site: recordstest.Site, Sent: t0, Entries: []protocol.Entry{{
		Kiosk: "gate-9", Seq: 1, ID: "0190d6e4-7a4b-7cc0-8b8e-000000000099", Time: t0,
		Kind: protocol.KindCheck, Decision: protocol.DecisionDeny, Reasons: []string{protocol.ReasonPassRevoked}, Alert: true}}}
	if _, err := e.rec.SaveBatch(t.Context(), late, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.poll(t) // the leading replica raises the alert
	for range 3 {
		if err := fd.Poll(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(w.entries, []uint64{1}) || !slices.Equal(w.alerts, []string{"pass_revoked open"}) {
		t.Errorf("the view got entries %v and alerts %q, want gate-9's entry and its pass_revoked alert once", w.entries, w.alerts)
	}
	if n, _ := e.store.Alerts(t.Context(), 10); len(n) != 2 {
		t.Errorf("%d alerts stored, want 2: the feed raises none", len(n))
	}
}
