package gate

import (
	"context"
	"slices"
	"testing"

	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/protocol"
)

// TestForms runs a shift at the gate through the gate's forms and checks
// that every one is a journal entry with the guards on post.
func TestForms(t *testing.T) {
	g := newTestGate(t)
	ctx := context.Background()
	vol, staff := g.sign("V0000001", protocol.PassVolunteer), g.sign("S0000001", protocol.PassStaff)
	reading := &protocol.Reading{ObjectC: 36.5, ScreenedC: 36.5}
	visitor := protocol.Visitor{Name: "陈先生", Contact: "13800000000", From: "浦东", Visiting: "5-101", Purpose: "送药"}

	steps := []struct {
		name string
		do   func() (checkpoint.Outcome, error)
	}{
		{"volunteer signs in", func() (checkpoint.Outcome, error) { return g.SignIn(ctx, vol) }},
		{"resident cannot sign in", func() (checkpoint.Outcome, error) { return g.SignIn(ctx, g.sign("R0000001", protocol.PassResident)) }},
		{"staff signs in", func() (checkpoint.Outcome, error) { return g.SignIn(ctx, staff) }},
		{"delivery", func() (checkpoint.Outcome, error) { return g.RecordDelivery(ctx, 2) }},
		{"disinfection", func() (checkpoint.Outcome, error) { return g.RecordDisinfection(ctx, protocol.AreaLiftButtons, staff) }},
		{"visitor", func() (checkpoint.Outcome, error) { return g.RegisterVisitor(ctx, visitor, reading) }},
		{"incomplete visitor", func() (checkpoint.Outcome, error) {
			return g.RegisterVisitor(ctx, protocol.Visitor{Name: "x\x1b[2J"}, reading)
		}},
		{"volunteer signs out", func() (checkpoint.Outcome, error) { return g.SignOut(ctx, vol) }},
	}
	for _, s := range steps {
		if _, err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	g.record(ctx, "hello\xff", reading, "")
	g.commit(ctx, protocol.Entry{Time: g.clk.Now(), Kind: protocol.KindCheck}, checkpoint.UnreadableScan(), "", nil)

	es, err := g.journal.Unsent(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind    protocol.Kind
		reasons []string
		onPost  []string
		check   func(e protocol.Entry) bool
	}{
		{protocol.KindShiftIn, []string{"shift_in", "post_understaffed"}, []string{"V0000001"}, func(e protocol.Entry) bool { return e.Pass == "V0000001" }},
		{protocol.KindShiftIn, []string{"not_guard_pass"}, []string{"V0000001"}, func(e protocol.Entry) bool { return e.Decision == protocol.DecisionDeny }},
		{protocol.KindShiftIn, []string{"shift_in"}, []string{"S0000001", "V0000001"}, nil},
		{protocol.KindDelivery, []string{"parcel_at_drop_point"}, []string{"S0000001", "V0000001"}, func(e protocol.Entry) bool { return e.Count == 2 }},
		{protocol.KindDisinfection, []string{"disinfected"}, []string{"S0000001", "V0000001"}, func(e protocol.Entry) bool { return e.Area == "lift_buttons" && e.Pass == "S0000001" }},
		{protocol.KindVisitor, []string{"visitors_not_admitted", "visitor", "temperature_normal"}, []string{"S0000001", "V0000001"},
			func(e protocol.Entry) bool {
				return e.Visitor != nil && e.Visitor.Name == "陈先生" && e.Unit == "5-101"
			}},
		{protocol.KindVisitor, []string{"visitor_incomplete"}, []string{"S0000001", "V0000001"}, func(e protocol.Entry) bool { return e.Visitor == nil }},
		{protocol.KindShiftOut, []string{"shift_out", "post_understaffed"}, []string{"S0000001"}, nil},
		{protocol.KindCheck, []string{"pass_not_a_pass", "temperature_normal"}, []string{"S0000001"}, func(e protocol.Entry) bool { return e.Scan == "hello\ufffd" }},
		{protocol.KindCheck, []string{"scan_unreadable"}, []string{"S0000001"}, func(e protocol.Entry) bool { return e.Scan == "" }},
	}
	if len(es) != len(want) {
		t.Fatalf("journal holds %d entries, want %d: %+v", len(es), len(want), es)
	}
	for i, w := range want {
		e := es[i]
		if e.Kind != w.kind || !slices.Equal(e.Reasons, w.reasons) || !slices.Equal(e.OnPost, w.onPost) || (w.check != nil && !w.check(e)) {
			t.Errorf("entry %d = %s %s %v on post %v %+v, want %s %v on post %v", i+1, e.Kind, e.Decision, e.Reasons, e.OnPost, e, w.kind, w.reasons, w.onPost)
		}
		if !e.Time.Equal(g.clk.Now()) {
			t.Errorf("entry %d at %v, want the gate's clock's %v", i+1, e.Time, g.clk.Now())
		}
	}
	if w := g.PostWarning(); w == "" {
		t.Error("one guard on post gives no warning")
	}
	if last := g.screen.State().Last; last == nil || last.Say == "" {
		t.Errorf("screen shows %+v, want the rules' sentence", last)
	}
}
