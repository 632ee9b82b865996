package gate

import (
	"context"
	"slices"

	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/protocol"
)

// The guard's forms: visitor registration, delivery, disinfection and
// shift sign-in/out. Each applies the rules, journals an entry and shows
// it, exactly like a scan; the screen's handlers (ui.go) call them. The
// error is the journal's: the outcome is then NOT recorded.

// RegisterVisitor journals the three questions' answers with the visitor's
// temperature; a key-region returnee is an alert.
func (g *Gate) RegisterVisitor(ctx context.Context, v protocol.Visitor, reading *protocol.Reading) (checkpoint.Outcome, error) {
	now := g.clk.Now()
	rules := g.rules()
	key := visitorHoldKey(v)
	g.mu.Lock()
	recheck, rest := g.holds.Recheck(key, now, rules)
	out := checkpoint.Visit(checkpoint.VisitorInput{Visitor: v, Reading: reading, Recheck: recheck && rest == 0}, rules)
	if out.Hold {
		g.holds.Hold(key, now)
	} else if recheck && rest == 0 {
		g.holds.Done(key)
	}
	g.mu.Unlock()
	entry := protocol.Entry{Time: now, Kind: protocol.KindVisitor, Temperature: reading}
	// Incomplete or unacceptable answers are journaled as the refusal,
	// without them.
	if !slices.Contains(out.Reasons, protocol.ReasonVisitorIncomplete) {
		entry.Visitor = &v
		if len(v.Visiting) <= protocol.MaxPassUnit {
			entry.Unit = v.Visiting
		}
	}
	_, err := g.commit(ctx, entry, out, "", reading)
	return out, err
}

// RecordDelivery journals parcels left at the drop point.
func (g *Gate) RecordDelivery(ctx context.Context, count int) (checkpoint.Outcome, error) {
	out := checkpoint.Delivery(count)
	entry := protocol.Entry{Time: g.clk.Now(), Kind: protocol.KindDelivery, Count: min(max(count, 1), checkpoint.MaxParcels)}
	_, err := g.commit(ctx, entry, out, "", nil)
	return out, err
}

// RecordDisinfection journals an area disinfected by the holder of the
// scanned staff or volunteer pass.
func (g *Gate) RecordDisinfection(ctx context.Context, area, guardScan string) (checkpoint.Outcome, error) {
	res := g.verify(ctx, guardScan)
	out := checkpoint.Disinfection(area, res)
	entry := protocol.Entry{Time: g.clk.Now(), Kind: protocol.KindDisinfection}
	if out.Decision == protocol.DecisionRecord {
		entry.Area, entry.Pass = area, res.Pass.ID
	}
	_, err := g.commit(ctx, entry, out, "", nil)
	return out, err
}

// SignIn puts the holder of the scanned staff or volunteer pass on post.
func (g *Gate) SignIn(ctx context.Context, guardScan string) (checkpoint.Outcome, error) {
	return g.shift(ctx, guardScan, true)
}

// SignOut takes the holder of the scanned pass off post.
func (g *Gate) SignOut(ctx context.Context, guardScan string) (checkpoint.Outcome, error) {
	return g.shift(ctx, guardScan, false)
}

func (g *Gate) shift(ctx context.Context, guardScan string, in bool) (checkpoint.Outcome, error) {
	res := g.verify(ctx, guardScan)
	rules := g.rules()
	kind := protocol.KindShiftOut
	g.mu.Lock()
	var out checkpoint.Outcome
	if in {
		kind = protocol.KindShiftIn
		out = g.post.SignIn(res, g.clk.Now(), rules)
	} else {
		out = g.post.SignOut(res, rules)
	}
	onPost := g.post.OnPost()
	g.mu.Unlock()
	entry := protocol.Entry{Time: g.clk.Now(), Kind: kind, OnPost: onPost}
	if res.Trusted() {
		entry.Pass = res.Pass.ID
	}
	_, err := g.commit(ctx, entry, out, "", nil)
	return out, err
}

// PostWarning is the guard's warning when fewer than rules.min_on_post are
// signed in ("" when enough).
func (g *Gate) PostWarning() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if say, warn := g.post.Warning(g.rules()); warn {
		return say.String()
	}
	return ""
}
