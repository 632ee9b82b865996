package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/protocol"
)

// TestScreenModes: a scan after "sign in" is the guard's sign-in and puts
// them on the screen's list by name; with no mode, or after it ran out, a
// scan is a resident's check.
func TestScreenModes(t *testing.T) {
	d, sign := openGate(t)
	ctx := context.Background()
	vol := sign("V0000001", protocol.PassVolunteer)

	if d.ui.takeScan(ctx, vol) {
		t.Fatal("with no mode a scan was taken as a guard's")
	}
	if err := d.ui.SetMode(ctx, screen.ModeSignIn, ""); err != nil {
		t.Fatal(err)
	}
	if m := d.screen.State().Mode; m == nil || m.Kind != screen.ModeSignIn {
		t.Fatalf("screen mode = %+v, want sign_in", m)
	}
	if !d.ui.takeScan(ctx, vol) {
		t.Fatal("the scan after sign in was not taken")
	}
	st := d.screen.State()
	if st.Mode != nil || len(st.Guards) != 1 || st.Guards[0].ID != "V0000001" || st.Guards[0].Name != "李*" {
		t.Fatalf("after sign-in the screen shows mode %+v, guards %+v", st.Mode, st.Guards)
	}
	if st.Last == nil || st.Last.Kind != "shift_in" || st.Last.SayZH == "" || st.Last.SayEN == "" {
		t.Errorf("last shown = %+v", st.Last)
	}

	// A mode nobody used in time ends by itself.
	d.cfg.Screen.ModeFor = 0
	d.ui.SetMode(ctx, screen.ModeDisinfect, "gate")
	deadline := time.Now().Add(5 * time.Second)
	for d.screen.State().Mode != nil {
		if time.Now().After(deadline) {
			t.Fatal("the mode did not end by itself")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d.ui.takeScan(ctx, vol) {
		t.Error("a scan after the mode ended was taken as a guard's")
	}
}

func TestCompoundMarksKeyRegions(t *testing.T) {
	d, _ := openGate(t)
	d.cfg.Rules.KeyRegions = []string{"hubei", "湖北"}
	d.cfg.Compound.Regions = []string{"上海", "湖北省", "Hubei"}
	c := compoundOf(d.cfg)
	want := []screen.Region{{Name: "上海"}, {Name: "湖北省", Key: true}, {Name: "Hubei", Key: true}}
	if len(c.Regions) != len(want) {
		t.Fatalf("regions = %+v", c.Regions)
	}
	for i := range want {
		if c.Regions[i] != want[i] {
			t.Errorf("region %d = %+v, want %+v", i, c.Regions[i], want[i])
		}
	}
	if len(c.Areas) != 5 || c.Areas[0] != "lift_buttons" {
		t.Errorf("areas = %v", c.Areas)
	}
}
