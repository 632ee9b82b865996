package alerts

import (
	"slices"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/records/recordstest"
	"github.com/gatepost/gatepost/protocol"
)

// With hub replicas, an entry stamped by one replica can commit after a
// later one stamped by another has been read. A follower with Settle reads
// the last Settle again and raises its alert, handing each entry to the
// live view once; without it the entry is passed over for good (what a
// single hub, committing in receipt order, never sees).
func TestSettleFindsEntriesCommittedOutOfOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		settle time.Duration
		want   []string
	}{
		{0, nil},
		{10 * time.Second, []string{protocol.AlertFever}},
	} {
		w := &watcher{watching: true}
		e := newEnv(t, w)
		e.f.cfg.Settle = tc.settle
		recordstest.SaveEntries(t, e.rec, t0.Add(-time.Minute),
			protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAllow, Reasons: []string{protocol.ReasonPassValid}})
		e.poll(t)

		// Another replica stamped this entry two seconds earlier and
		// commits it only now.
		stamped := t0.Add(-time.Minute - 2*time.Second)
		late := protocol.Batch{Kiosk: "gate-9", Site: recordstest.Site, Sent: stamped, Entries: []protocol.Entry{{
			Kiosk: "gate-9", Seq: 1, ID: "0190d6e4-7a4b-7cc0-8b8e-000000000099", Time: t0.Add(-2 * time.Minute),
			Kind: protocol.KindCheck, Decision: protocol.DecisionAlert, Reasons: []string{protocol.ReasonFeverConfirmed},
			Temperature: &protocol.Reading{ObjectC: 38, ScreenedC: 38.4}}}}
		if _, err := e.rec.SaveBatch(t.Context(), late, stamped); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			e.poll(t)
		}
		if got := e.open(t); !slices.Equal(got, tc.want) {
			t.Errorf("settle %v: open alerts %q, want %q", tc.settle, got, tc.want)
		}
		if tc.settle > 0 && (!slices.Equal(w.entries, []uint64{1, 1}) || !slices.Equal(w.alerts, []string{"fever open"})) {
			t.Errorf("settle %v: watcher got entries %v and alerts %q, want each entry once and one fever alert",
				tc.settle, w.entries, w.alerts)
		}
	}
}
