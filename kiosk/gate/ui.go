package gate

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/protocol"
)

// ui is the gate's side of the guard's screen: it answers the page's
// forms with the gate's forms (forms.go), holds the "next scan is a
// guard's pass" mode, and puts the post and the lists on the screen.
type ui struct {
	g *Gate

	mu        sync.Mutex
	mode      *screen.Mode
	modeTimer clock.Timer
	names     map[string]string    // pass id -> masked name, of passes verified lately
	since     map[string]time.Time // pass id -> when first seen on post
	held      map[string]screen.Held
}

var _ screen.Gate = (*ui)(nil)

// maxNames bounds the name cache: guards and the last few residents.
const maxNames = 64

func newUI(g *Gate) *ui {
	u := &ui{g: g, names: map[string]string{}, since: map[string]time.Time{}, held: map[string]screen.Held{}}
	g.screen.Serve(u, compoundOf(g.cfg))
	g.screen.Update(func(s *screen.State) {
		s.MinOnPost = g.cfg.Rules.MinOnPost
		s.ResultSeconds = g.cfg.Screen.ResultFor.D().Seconds()
		s.Guards = []screen.Guard{}
		s.Held = []screen.Held{}
	})
	u.restorePost(context.Background())
	u.Refresh(context.Background())
	return u
}

// restorePost puts back on post the guards the journal's last entry lists,
// so a daemon restart does not sign everyone out. The screen shows their
// pass ids until they next scan (names are not journaled).
func (u *ui) restorePost(ctx context.Context) {
	st, err := u.g.journal.Status(ctx)
	if err != nil || st.LastSeq == 0 {
		return
	}
	es, err := u.g.journal.Unsent(ctx, st.LastSeq-1, 1)
	if err != nil || len(es) == 0 || len(es[0].OnPost) == 0 {
		return
	}
	e := es[0]
	u.g.mu.Lock()
	u.g.post.Restore(e.OnPost, e.Time)
	u.g.mu.Unlock()
	guards := make([]screen.Guard, 0, len(e.OnPost))
	for _, id := range e.OnPost {
		u.since[id] = e.Time
		guards = append(guards, screen.Guard{ID: id, Since: e.Time})
	}
	u.g.screen.Update(func(s *screen.State) { s.Guards = guards })
	u.g.log.Info("guards on post restored from the journal", "on_post", e.OnPost, "seq", e.Seq)
}

// compoundOf is what the forms offer, from the kiosk's configuration: the
// disinfection areas in the order of the seed's record sheet.
func compoundOf(cfg config.Config) screen.Compound {
	c := screen.Compound{Buildings: cfg.Compound.Buildings, Floors: cfg.Compound.Floors, UnitsPerFloor: cfg.Compound.UnitsPerFloor}
	for _, r := range cfg.Compound.Regions {
		c.Regions = append(c.Regions, screen.Region{Name: r, Key: isKeyRegion(r, cfg.Rules.KeyRegions)})
	}
	c.Areas = append(c.Areas, protocol.Areas...)
	return c
}

// isKeyRegion tells whether a region offered on the screen is a key
// region, by the rules' own test (a visitor from it raises an alert).
func isKeyRegion(region string, keys []string) bool {
	out := checkpoint.Visit(checkpoint.VisitorInput{Visitor: protocol.Visitor{
		Name: "-", Contact: "-", From: region, Visiting: "-", Purpose: "-", Returnee: true, Origin: region, Returned: "2000-01-01",
	}}, checkpoint.Rules{KeyRegions: keys, VisitorsAdmitted: true})
	return slices.Contains(out.Reasons, protocol.ReasonKeyRegionReturnee)
}

// Visitor takes the visitor's temperature, then journals the answers.
func (u *ui) Visitor(ctx context.Context, v screen.Visitor) error {
	reading, _ := u.g.read(ctx)
	pv := protocol.Visitor{Name: v.Name, Contact: v.Phone, From: v.From, Visiting: v.Visiting, Purpose: v.Purpose, Returnee: v.Returnee}
	if v.Returnee {
		pv.Origin, pv.Returned = v.From, v.Returned
	}
	_, err := u.g.RegisterVisitor(ctx, pv, reading)
	return notRecorded(err)
}

// Delivery journals parcels left at the drop point.
func (u *ui) Delivery(ctx context.Context, count int) error {
	_, err := u.g.RecordDelivery(ctx, count)
	return notRecorded(err)
}

func notRecorded(err error) error {
	if err != nil {
		return fmt.Errorf("%w: %v", screen.ErrNotRecorded, err)
	}
	return nil
}

// SetMode makes the next scan, within screen.mode_for, a guard's pass.
func (u *ui) SetMode(_ context.Context, kind, area string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.modeTimer != nil {
		u.modeTimer.Stop()
		u.modeTimer = nil
	}
	var m *screen.Mode
	if kind != "" {
		wait := u.g.cfg.Screen.ModeFor.D()
		m = &screen.Mode{Kind: kind, Area: area, Until: u.g.clk.Now().Add(wait)}
		u.modeTimer = u.g.clk.AfterFunc(wait, func() { u.endMode(m) })
	}
	u.mode = m
	u.g.screen.Update(func(s *screen.State) { s.Mode = m })
	return nil
}

// endMode ends m if it is still the mode: nobody scanned in time.
func (u *ui) endMode(m *screen.Mode) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.mode == m {
		u.mode = nil
		u.g.screen.Update(func(s *screen.State) { s.Mode = nil })
	}
}

// takeScan hands a scan to the pending mode, if any, and reports whether
// it did; otherwise the scan is a resident's check.
func (u *ui) takeScan(ctx context.Context, text string) bool {
	u.mu.Lock()
	m := u.mode
	u.mode = nil
	if u.modeTimer != nil {
		u.modeTimer.Stop()
		u.modeTimer = nil
	}
	u.mu.Unlock()
	if m == nil {
		return false
	}
	u.g.screen.Update(func(s *screen.State) { s.Mode = nil })
	if u.g.clk.Now().After(m.Until) {
		return false
	}
	switch m.Kind {
	case screen.ModeSignIn:
		u.g.SignIn(ctx, text)
	case screen.ModeSignOut:
		u.g.SignOut(ctx, text)
	case screen.ModeDisinfect:
		u.g.RecordDisinfection(ctx, m.Area, text)
	default:
		return false
	}
	return true
}
