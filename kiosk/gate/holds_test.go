package gate

import (
	"context"
	"slices"
	"testing"

	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/protocol"
)

// A kiosk restarted while someone rests before their second reading
// takes their next scan as that second reading: the hold is restored from
// the journal, not forgotten with the process.
func TestFeverHoldSurvivesRestart(t *testing.T) {
	g := newTestGate(t)
	g.cfg.Rules.RecheckAfter = config.Duration(0) // the rest is over at once
	g.cfg.Rules.RequirePass = false
	g.open()
	ctx := context.Background()
	fever := &protocol.Reading{ObjectC: 37.8, ScreenedC: 37.8}
	g.record(ctx, "B-7", fever, "")
	if got := g.screen.State().Last; !slices.Contains(got.Reasons, protocol.ReasonFeverHold) {
		t.Fatalf("first reading at 37.8 °C = %+v, want a fever hold", got)
	}

	g.open() // restarted on the same journal
	g.record(ctx, "B-7", fever, "")
	if got := g.screen.State().Last; !slices.Contains(got.Reasons, protocol.ReasonFeverConfirmed) || got.Decision != string(protocol.DecisionAlert) {
		t.Fatalf("second reading after a restart = %+v, want fever_confirmed and alert (not a new hold)", got)
	}
	// The hold ended with the second reading: a third scan is a first
	// reading again.
	g.record(ctx, "B-7", fever, "")
	if got := g.screen.State().Last; !slices.Contains(got.Reasons, protocol.ReasonFeverHold) {
		t.Fatalf("third reading = %+v, want a new fever hold", got)
	}
}
