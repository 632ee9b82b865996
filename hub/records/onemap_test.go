package records

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

func TestOneMap(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		cst := time.FixedZone("CST", 8*3600)
		at := func(day, h, m int) time.Time { return time.Date(2026, 2, day, h, m, 0, 0, cst) }
		var es []protocol.Entry
		add := func(e protocol.Entry) {
			e.Kiosk, e.Seq = "gate-1", uint64(len(es)+1)
			e.ID = fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", e.Seq)
			if e.Decision == "" {
				e.Decision = protocol.DecisionAllow
			}
			if e.Kind == "" {
				e.Kind = protocol.KindCheck
			}
			es = append(es, e)
		}
		two := []string{"P1", "P2"}
		add(protocol.Entry{Time: at(1, 7, 0), Kind: protocol.KindShiftIn, Decision: protocol.DecisionRecord, Pass: "P1", Unit: "3-201", OnPost: two})
		add(protocol.Entry{Time: at(1, 8, 0), Unit: "3-201", OnPost: two})
		add(protocol.Entry{Time: at(1, 8, 5), Unit: "12-101", Decision: protocol.DecisionAlert, Reasons: []string{"fever"}, OnPost: two})
		add(protocol.Entry{Time: at(1, 9, 0), Kind: protocol.KindVisitor, OnPost: two,
			Visitor:  &protocol.Visitor{Name: "张伟", Visiting: "3-502", Returnee: true, Origin: "湖北", Returned: "2026-01-30"},
			Decision: protocol.DecisionAlert, Reasons: []string{"key_region_returnee"}})
		add(protocol.Entry{Time: at(1, 9, 30), Kind: protocol.KindVisitor, OnPost: two,
			Visitor: &protocol.Visitor{Name: "王芳", Visiting: "3-101", Returnee: true, Origin: "江苏", Returned: "2026-01-30"}})
		add(protocol.Entry{Time: at(1, 10, 0), Kind: protocol.KindDelivery, Decision: protocol.DecisionRecord, Count: 3, OnPost: []string{"P1"}})
		add(protocol.Entry{Time: at(1, 11, 0), Kind: protocol.KindShiftOut, Decision: protocol.DecisionRecord, Pass: "P1", Unit: "3-201", OnPost: []string{"P2"}})
		add(protocol.Entry{Time: at(1, 12, 0), Kind: protocol.KindDisinfection, Decision: protocol.DecisionRecord, Area: "lift buttons", OnPost: two})
		add(protocol.Entry{Time: at(1, 13, 0), Unit: "12-303", Decision: protocol.DecisionAlert, Reasons: []string{"home_observation"}, OnPost: two})
		add(protocol.Entry{Time: at(2, 9, 0), Unit: "3-201"}) // the next day
		b := protocol.Batch{Kiosk: "gate-1", Site: "huamu-001", Sent: at(2, 10, 0), Entries: es}
		mustSave(t, s, b, at(2, 10, 0))

		m, err := s.OneMap(t.Context(), "huamu-001", "2026-02-01")
		if err != nil {
			t.Fatal(err)
		}
		want := BuildingDay{Entries: 3, Visitors: 2, ReturneesKey: 1, ReturneesNonKey: 1, Fevers: 1, HomeObservation: 1, Deliveries: 3}
		if m.Total != want {
			t.Errorf("total = %+v, want %+v", m.Total, want)
		}
		if len(m.Buildings) != 3 || m.Buildings[0].Building != "3" || m.Buildings[1].Building != "12" || m.Buildings[2].Building != "" {
			t.Errorf("buildings = %+v, want 3, 12, unknown", m.Buildings)
		}
		if m.Buildings[0].Visitors != 2 || m.Buildings[0].Entries != 1 {
			t.Errorf("building 3 = %+v, want 1 entry, 2 visitors", m.Buildings[0])
		}
		if len(m.Disinfection) != 1 || m.Disinfection[0].Area != "lift buttons" {
			t.Errorf("disinfection = %+v", m.Disinfection)
		}
		// Two on post from 07:00 to 24:00, except 10:00-12:00 (one on post).
		if got := m.CoveredHours["gate-1"]; got != 15 {
			t.Errorf("covered hours = %v, want 15", got)
		}
		if len(m.Volunteers) != 1 || m.Volunteers[0] != (HouseholdHours{Unit: "3-201", Hours: 4}) {
			t.Errorf("volunteers = %+v, want 3-201 with 4 h", m.Volunteers)
		}
		if _, err := s.OneMap(t.Context(), "huamu-001", "yesterday"); err == nil {
			t.Errorf("OneMap(yesterday) succeeded")
		}

		month, err := s.MonthMap(t.Context(), "2026-02")
		if err != nil {
			t.Fatal(err)
		}
		if len(month) != 2 || month[0] != (SiteDay{Site: "huamu-001", Day: "2026-02-01", Entries: 3, Visitors: 2, Deliveries: 3, Alerts: 3, Fevers: 1}) {
			t.Errorf("month = %+v", month)
		}
	})
}

// TestFeverReasons pins which reason codes count as a fever in the one
// map and the month: every code starting "fever", fever_hold included.
func TestFeverReasons(t *testing.T) {
	counted := []string{protocol.ReasonFeverHold, protocol.ReasonFeverRest, protocol.ReasonFeverConfirmed}
	for _, r := range protocol.Reasons {
		if got, want := isFeverReason(r), slices.Contains(counted, r); got != want {
			t.Errorf("isFeverReason(%q) = %v, want %v", r, got, want)
		}
	}
}
