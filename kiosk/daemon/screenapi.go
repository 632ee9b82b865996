package daemon

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/protocol"
)

// gateUI is the daemon's side of the guard's screen: it answers the
// page's forms with the daemon's forms (forms.go), holds the "next scan is
// a guard's pass" mode, and puts the post and the lists on the screen.
type gateUI struct {
	d *Daemon

	mu        sync.Mutex
	mode      *screen.Mode
	modeTimer *time.Timer
	names     map[string]string    // pass id -> masked name, of passes verified lately
	since     map[string]time.Time // pass id -> when first seen on post
	held      map[string]screen.Held
}

var _ screen.Gate = (*gateUI)(nil)

// areaOrder is the order of the disinfection buttons: as the seed's record
// sheet lists them, the gate's own last.
var areaOrder = []string{"lift_buttons", "handrails", "stairwell_doors", "drop_point", "gate"}

// maxNames bounds the name cache: guards and the last few residents.
const maxNames = 64

func newGateUI(d *Daemon) *gateUI {
	u := &gateUI{d: d, names: map[string]string{}, since: map[string]time.Time{}, held: map[string]screen.Held{}}
	d.screen.Serve(u, compoundOf(d.cfg))
	d.screen.Update(func(s *screen.State) {
		s.MinOnPost = d.cfg.Rules.MinOnPost
		s.ResultSeconds = d.cfg.Screen.ResultFor.D().Seconds()
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
func (u *gateUI) restorePost(ctx context.Context) {
	st, err := u.d.journal.Status(ctx)
	if err != nil || st.LastSeq == 0 {
		return
	}
	es, err := u.d.journal.Unsent(ctx, st.LastSeq-1, 1)
	if err != nil || len(es) == 0 || len(es[0].OnPost) == 0 {
		return
	}
	e := es[0]
	u.d.gateMu.Lock()
	u.d.post.Restore(e.OnPost, e.Time)
	u.d.gateMu.Unlock()
	guards := make([]screen.Guard, 0, len(e.OnPost))
	for _, id := range e.OnPost {
		u.since[id] = e.Time
		guards = append(guards, screen.Guard{ID: id, Since: e.Time})
	}
	u.d.screen.Update(func(s *screen.State) { s.Guards = guards })
	u.d.log.Info("guards on post restored from the journal", "on_post", e.OnPost, "seq", e.Seq)
}

// compoundOf is what the forms offer, from the kiosk's configuration.
func compoundOf(cfg config.Config) screen.Compound {
	c := screen.Compound{Buildings: cfg.Compound.Buildings, Floors: cfg.Compound.Floors, UnitsPerFloor: cfg.Compound.UnitsPerFloor}
	for _, r := range cfg.Compound.Regions {
		_, key := keyRegionOf(r, cfg.Rules.KeyRegions)
		c.Regions = append(c.Regions, screen.Region{Name: r, Key: key})
	}
	for _, a := range areaOrder {
		if slices.Contains(protocol.Areas, a) {
			c.Areas = append(c.Areas, a)
		}
	}
	return c
}

// keyRegionOf tells whether a region offered on the screen is a key
// region, by the rules' own test (a visitor from it raises an alert).
func keyRegionOf(region string, keys []string) (string, bool) {
	out := checkpoint.Visit(checkpoint.VisitorInput{Visitor: protocol.Visitor{
		Name: "-", Contact: "-", From: region, Visiting: "-", Purpose: "-", Returnee: true, Origin: region, Returned: "2000-01-01",
	}}, checkpoint.Rules{KeyRegions: keys, VisitorsAdmitted: true})
	return region, slices.Contains(out.Reasons, protocol.ReasonKeyRegionReturnee)
}

// Visitor takes the visitor's temperature, then journals the answers.
func (u *gateUI) Visitor(ctx context.Context, v screen.Visitor) error {
	reading := u.d.devices.read(ctx, u.d.cfg.Thermometer.Timeout.D())
	pv := protocol.Visitor{Name: v.Name, Contact: v.Phone, From: v.From, Visiting: v.Visiting, Purpose: v.Purpose, Returnee: v.Returnee}
	if v.Returnee {
		pv.Origin, pv.Returned = v.From, v.Returned
	}
	_, err := u.d.RegisterVisitor(ctx, pv, reading)
	return notRecorded(err)
}

// Delivery journals parcels left at the drop point.
func (u *gateUI) Delivery(ctx context.Context, count int) error {
	_, err := u.d.RecordDelivery(ctx, count)
	return notRecorded(err)
}

func notRecorded(err error) error {
	if err != nil {
		return fmt.Errorf("%w: %v", screen.ErrNotRecorded, err)
	}
	return nil
}

// SetMode makes the next scan, within screen.mode_for, a guard's pass.
func (u *gateUI) SetMode(_ context.Context, kind, area string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.modeTimer != nil {
		u.modeTimer.Stop()
		u.modeTimer = nil
	}
	var m *screen.Mode
	if kind != "" {
		wait := u.d.cfg.Screen.ModeFor.D()
		m = &screen.Mode{Kind: kind, Area: area, Until: time.Now().Add(wait)}
		u.modeTimer = time.AfterFunc(wait, func() { u.endMode(m) })
	}
	u.mode = m
	u.d.screen.Update(func(s *screen.State) { s.Mode = m })
	return nil
}

// endMode ends m if it is still the mode: nobody scanned in time.
func (u *gateUI) endMode(m *screen.Mode) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.mode == m {
		u.mode = nil
		u.d.screen.Update(func(s *screen.State) { s.Mode = nil })
	}
}

// takeScan hands a scan to the pending mode, if any, and reports whether
// it did; otherwise the scan is a resident's check.
func (u *gateUI) takeScan(ctx context.Context, text string) bool {
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
	u.d.screen.Update(func(s *screen.State) { s.Mode = nil })
	if time.Now().After(m.Until) {
		return false
	}
	switch m.Kind {
	case screen.ModeSignIn:
		u.d.SignIn(ctx, text)
	case screen.ModeSignOut:
		u.d.SignOut(ctx, text)
	case screen.ModeDisinfect:
		u.d.RecordDisinfection(ctx, m.Area, text)
	default:
		return false
	}
	return true
}

// noteName remembers a verified pass's masked name, for the result screen
// and the list of guards on post.
func (u *gateUI) noteName(id, name string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.names[id]; !ok && len(u.names) >= maxNames {
		for k := range u.names {
			if _, onPost := u.since[k]; !onPost {
				delete(u.names, k)
			}
		}
	}
	u.names[id] = name
}

// show puts a journaled entry on the screen with who is on post, in one
// update so the page never sees one without the other.
func (u *gateUI) show(e protocol.Entry, out checkpoint.Outcome, shown *screen.Shown) {
	shown.Kind, shown.Unit = string(e.Kind), e.Unit
	shown.SayZH, shown.SayEN = out.Say.ZH, out.Say.EN
	shown.Alert = out.Alert || out.Decision == protocol.DecisionAlert
	u.mu.Lock()
	if e.Pass != "" {
		shown.Name = u.names[e.Pass]
	}
	guards := make([]screen.Guard, 0, len(e.OnPost))
	for id := range u.since {
		if !slices.Contains(e.OnPost, id) {
			delete(u.since, id)
		}
	}
	for _, id := range e.OnPost {
		if _, ok := u.since[id]; !ok {
			u.since[id] = e.Time
		}
		guards = append(guards, screen.Guard{ID: id, Name: u.names[id], Since: u.since[id]})
	}
	held := u.holdLocked(e, out, shown.Name)
	u.mu.Unlock()
	slices.SortFunc(guards, func(a, b screen.Guard) int { return a.Since.Compare(b.Since) })
	u.d.screen.Update(func(s *screen.State) { s.Last, s.Guards, s.Held = shown, guards, held })
	// After the result, not before: the lists' freshness is not worth a
	// millisecond of the guard's wait.
	u.Refresh(context.Background())
}

// holdLocked keeps the list of people resting before their second
// reading, as the rules hold and release them, and returns it by time.
func (u *gateUI) holdLocked(e protocol.Entry, out checkpoint.Outcome, name string) []screen.Held {
	key := e.Pass
	if e.Visitor != nil {
		key, name = "visitor:"+e.Visitor.Name+"/"+e.Visitor.Contact, e.Visitor.Name
	}
	if key != "" {
		switch {
		case out.Hold:
			r := u.d.cfg.Rules
			u.held[key] = screen.Held{Unit: e.Unit, Name: name, Ready: e.Time.Add(r.RecheckAfter.D()), Until: e.Time.Add(r.RecheckWithin.D())}
		case out.Decision != protocol.DecisionRemeasure: // decided: the second reading came
			delete(u.held, key)
		}
	}
	list := make([]screen.Held, 0, len(u.held))
	for k, h := range u.held {
		if e.Time.After(h.Until) {
			delete(u.held, k)
			continue
		}
		list = append(list, h)
	}
	slices.SortFunc(list, func(a, b screen.Held) int { return a.Ready.Compare(b.Ready) })
	return list
}

// Refresh shows the current freshness of the pass keys and status list.
func (u *gateUI) Refresh(ctx context.Context) {
	if l := u.lists(ctx); l != nil {
		u.d.screen.Update(func(s *screen.State) { s.Lists = l })
	}
}

func (u *gateUI) lists(ctx context.Context) *screen.Lists {
	keys, list, stale, err := u.d.verifier.State(ctx)
	if err != nil {
		u.d.log.Warn("pass keys or status list unreadable", "err", err)
	}
	return &screen.Lists{Keys: keys, Status: list, Stale: stale}
}
