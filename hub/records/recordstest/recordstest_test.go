package recordstest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The entries are stored in order as Kiosk's, from Site, with their own
// time kept and a missing one a minute before they were received.
func TestSaveEntries(t *testing.T) {
	s, err := records.Open(filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	received := time.Date(2026, 2, 8, 9, 0, 0, 0, time.UTC)
	at := received.Add(-time.Hour)
	SaveEntries(t, s,
		received,
		protocol.Entry{Kind: protocol.KindDelivery, Decision: protocol.DecisionRecord, Time: at},
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAllow},
	)
	got, err := s.Entries(t.Context(), records.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("Entries() = %+v, want the two saved", got)
	}
	for i, want := range []struct {
		kind protocol.Kind
		at   time.Time
	}{{protocol.KindDelivery, at}, {protocol.KindCheck, received.Add(-time.Minute)}} {
		e := got[i]
		if e.Kiosk != Kiosk || e.Site != Site || e.Seq != uint64(i+1) || e.Kind != want.kind || !e.Time.Equal(want.at) || !e.Received.Equal(received) {
			t.Errorf("entry %d = %+v, want %s of %s, seq %d, %s at %v, received %v", i, e, Kiosk, Site, i+1, want.kind, want.at, received)
		}
	}
	if got[0].ID == got[1].ID {
		t.Errorf("both entries have id %s, want one each", got[0].ID)
	}
}
