package gate

import (
	"context"

	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/protocol"
)

// holdKeyOf is the key a fever hold of e is kept under: the pass id, the
// scanned text as journaled, or the visitor's name and contact. It reads
// only what the journal keeps, so restoreHolds finds the same keys.
func holdKeyOf(e protocol.Entry) string {
	switch {
	case e.Pass != "":
		return e.Pass
	case e.Kind == protocol.KindVisitor && e.Visitor != nil:
		return visitorHoldKey(*e.Visitor)
	default:
		return e.Scan
	}
}

func visitorHoldKey(v protocol.Visitor) string { return "visitor:" + v.Name + "/" + v.Contact }

// restoreHolds replays the journal's recent entries into the holds, so
// that a kiosk restarted while someone rests before their second reading
// takes their next scan as that second reading.
func (g *Gate) restoreHolds(ctx context.Context) {
	within := g.rules().RecheckWithin
	if within <= 0 {
		within = checkpoint.Defaults().RecheckWithin
	}
	recent, err := g.journal.Recent(ctx, g.clk.Now().Add(-within), 10000)
	if err != nil {
		g.log.Error("fever holds not restored: the next scan of someone resting is taken as a first reading", "err", err)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, e := range recent {
		if key := holdKeyOf(e); key != "" {
			g.holds.Replay(key, e.Time, e.Reasons)
		}
	}
	if n := g.holds.Len(); n > 0 {
		g.log.Info("fever holds restored from the journal", "people_resting", n)
	}
}
