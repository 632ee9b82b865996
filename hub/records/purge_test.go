package records

import (
	"strings"
	"testing"
	"time"
)

func TestPurge(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		seed(t, s, 3000)
		ctx := t.Context()
		cutoff := seedStart.Add(3 * 24 * time.Hour)
		would, err := s.Purge(ctx, "visitor", cutoff, true)
		if err != nil || would == 0 {
			t.Fatalf("dry run = %d, %v", would, err)
		}
		if again, _ := s.Purge(ctx, "visitor", cutoff, true); again != would {
			t.Errorf("a dry run changed something: %d then %d", would, again)
		}
		did, err := s.Purge(ctx, "visitor", cutoff, false)
		if err != nil || did != would {
			t.Errorf("purge = %d, %v; dry run said %d", did, err, would)
		}
		if n, _ := s.Purge(ctx, "visitor", cutoff, true); n != 0 {
			t.Errorf("after purging, %d remain", n)
		}
		err = s.Each(ctx, Filter{Kind: "visitor"}, func(e Stored) error {
			old := e.Received.Before(cutoff)
			if old && (e.Visitor.Name != Redacted || e.Visitor.Contact != "" || e.Visitor.Visiting == "") {
				t.Errorf("old visitor %s/%d = %+v, want redacted with the unit kept", e.Kiosk, e.Seq, e.Visitor)
			}
			if !old && (e.Visitor.Name == Redacted || !strings.HasPrefix(e.Visitor.Contact, "13")) {
				t.Errorf("recent visitor %s/%d was purged", e.Kiosk, e.Seq)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Purge(ctx, "everything", cutoff, true); err == nil {
			t.Errorf("purge of an unknown kind succeeded")
		}
	})
}

func TestPurgeUsesIndexes(t *testing.T) {
	t.Parallel()
	s := seeded(t, 100)
	for kind, where := range purgeQueries {
		p := queryPlan(t, s, `SELECT kiosk, seq, body FROM entries WHERE `+where+` LIMIT 1000`, seedStart.UnixNano())
		t.Logf("purge plan for %s: %s", kind, p)
		want := map[string]string{"visitor": "entries_by_kind_not_check", "check": "entries_by_received"}[kind]
		if !strings.Contains(p, "USING INDEX "+want) {
			t.Errorf("purge plan for %s = %s, want index %s", kind, p, want)
		}
	}
}
