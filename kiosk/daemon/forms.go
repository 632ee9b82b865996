package daemon

import (
	"context"
	"time"

	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/protocol"
)

// The guard's forms: visitor registration, delivery, disinfection and
// shift sign-in/out. Each applies the rules, journals an entry and shows
// it, exactly like a scan; the screen's handlers call them. The error is
// the journal's: the outcome is then NOT recorded.

// RegisterVisitor journals the three questions' answers with the visitor's
// temperature; a key-region returnee is an alert.
func (d *Daemon) RegisterVisitor(ctx context.Context, v protocol.Visitor, reading *protocol.Reading) (checkpoint.Outcome, error) {
	now := time.Now()
	rules := d.rules()
	key := visitorHoldKey(v)
	d.gateMu.Lock()
	recheck, rest := d.holds.Recheck(key, now, rules)
	out := checkpoint.Visit(checkpoint.VisitorInput{Visitor: v, Reading: reading, Recheck: recheck && rest == 0}, rules)
	if out.Hold {
		d.holds.Hold(key, now)
	} else if recheck && rest == 0 {
		d.holds.Done(key)
	}
	d.gateMu.Unlock()
	entry := protocol.Entry{Time: now, Kind: protocol.KindVisitor, Temperature: reading}
	// Incomplete or unacceptable answers are journaled as the refusal,
	// without them.
	if !has(out.Reasons, protocol.ReasonVisitorIncomplete) {
		entry.Visitor = &v
		if len(v.Visiting) <= protocol.MaxPassUnit {
			entry.Unit = v.Visiting
		}
	}
	_, err := d.commit(ctx, entry, out, "", reading)
	return out, err
}

// RecordDelivery journals parcels left at the drop point.
func (d *Daemon) RecordDelivery(ctx context.Context, count int) (checkpoint.Outcome, error) {
	out := checkpoint.Delivery(count)
	_, err := d.commit(ctx, protocol.Entry{Time: time.Now(), Kind: protocol.KindDelivery, Count: min(max(count, 1), checkpoint.MaxParcels)}, out, "", nil)
	return out, err
}

// RecordDisinfection journals an area disinfected by the holder of the
// scanned staff or volunteer pass.
func (d *Daemon) RecordDisinfection(ctx context.Context, area, guardScan string) (checkpoint.Outcome, error) {
	res := d.verify(ctx, guardScan)
	out := checkpoint.Disinfection(area, res)
	entry := protocol.Entry{Time: time.Now(), Kind: protocol.KindDisinfection}
	if out.Decision == protocol.DecisionRecord {
		entry.Area, entry.Pass = area, res.Pass.ID
	}
	_, err := d.commit(ctx, entry, out, "", nil)
	return out, err
}

// SignIn puts the holder of the scanned staff or volunteer pass on post.
func (d *Daemon) SignIn(ctx context.Context, guardScan string) (checkpoint.Outcome, error) {
	return d.shift(ctx, guardScan, true)
}

// SignOut takes the holder of the scanned pass off post.
func (d *Daemon) SignOut(ctx context.Context, guardScan string) (checkpoint.Outcome, error) {
	return d.shift(ctx, guardScan, false)
}

func (d *Daemon) shift(ctx context.Context, guardScan string, in bool) (checkpoint.Outcome, error) {
	res := d.verify(ctx, guardScan)
	rules := d.rules()
	kind := protocol.KindShiftOut
	d.gateMu.Lock()
	var out checkpoint.Outcome
	if in {
		kind = protocol.KindShiftIn
		out = d.post.SignIn(res, time.Now(), rules)
	} else {
		out = d.post.SignOut(res, rules)
	}
	onPost := d.post.OnPost()
	d.gateMu.Unlock()
	entry := protocol.Entry{Time: time.Now(), Kind: kind, OnPost: onPost}
	if res.Trusted() {
		entry.Pass = res.Pass.ID
	}
	_, err := d.commit(ctx, entry, out, "", nil)
	return out, err
}

// PostWarning is the guard's warning when fewer than rules.min_on_post are
// signed in ("" when enough).
func (d *Daemon) PostWarning() string {
	d.gateMu.Lock()
	defer d.gateMu.Unlock()
	if say, warn := d.post.Warning(d.rules()); warn {
		return say.String()
	}
	return ""
}

func has(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
