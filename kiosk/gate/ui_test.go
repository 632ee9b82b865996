package gate

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/protocol"
)

// TestScreenModes: a scan after "sign in" is the guard's sign-in and puts
// them on the screen's list by name; with no mode, or after it ran out, a
// scan is a resident's check.
func TestScreenModes(t *testing.T) {
	g := newTestGate(t)
	ctx := context.Background()
	vol := g.sign("V0000001", protocol.PassVolunteer)

	if g.ui.takeScan(ctx, vol) {
		t.Fatal("with no mode a scan was taken as a guard's")
	}
	if err := g.ui.SetMode(ctx, screen.ModeSignIn, ""); err != nil {
		t.Fatal(err)
	}
	if m := g.screen.State().Mode; m == nil || m.Kind != screen.ModeSignIn {
		t.Fatalf("screen mode = %+v, want sign_in", m)
	}
	if !g.ui.takeScan(ctx, vol) {
		t.Fatal("the scan after sign in was not taken")
	}
	st := g.screen.State()
	if st.Mode != nil || len(st.Guards) != 1 || st.Guards[0].ID != "V0000001" || st.Guards[0].Name != "李*" {
		t.Fatalf("after sign-in the screen shows mode %+v, guards %+v", st.Mode, st.Guards)
	}
	if st.Last == nil || st.Last.Kind != "shift_in" || st.Last.SayZH == "" || st.Last.SayEN == "" {
		t.Errorf("last shown = %+v", st.Last)
	}

	// A mode nobody used in time ends by itself.
	g.ui.SetMode(ctx, screen.ModeDisinfect, protocol.AreaGate)
	g.clk.Advance(g.cfg.Screen.ModeFor.D() - time.Millisecond)
	if g.screen.State().Mode == nil {
		t.Fatal("the mode ended before screen.mode_for")
	}
	g.clk.Advance(time.Millisecond)
	testkit.Eventually(t, "the mode to end by itself", func() bool { return g.screen.State().Mode == nil })
	if g.ui.takeScan(ctx, vol) {
		t.Error("a scan after the mode ended was taken as a guard's")
	}
}

func TestCompoundMarksKeyRegions(t *testing.T) {
	g := newTestGate(t)
	g.cfg.Rules.KeyRegions = []string{"hubei", "湖北"}
	g.cfg.Compound.Regions = []string{"上海", "湖北省", "Hubei"}
	c := compoundOf(g.cfg)
	want := []screen.Region{{Name: "上海"}, {Name: "湖北省", Key: true}, {Name: "Hubei", Key: true}}
	if !slices.Equal(c.Regions, want) {
		t.Errorf("regions = %+v, want %+v", c.Regions, want)
	}
	if !slices.Equal(c.Areas, []string{"lift_buttons", "handrails", "stairwell_doors", "drop_point", "gate"}) {
		t.Errorf("areas = %v", c.Areas)
	}
}
