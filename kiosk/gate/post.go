package gate

import (
	"context"
	"slices"

	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/protocol"
)

// noteName remembers a verified pass's masked name, for the result screen
// and the list of guards on post.
func (u *ui) noteName(id, name string) {
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
func (u *ui) show(e protocol.Entry, out checkpoint.Outcome, shown *screen.Shown) {
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
	u.g.screen.Update(func(s *screen.State) { s.Last, s.Guards, s.Held = shown, guards, held })
	// After the result, not before: the lists' freshness is not worth a
	// millisecond of the guard's wait.
	u.Refresh(context.Background())
}

// holdLocked keeps the list of people resting before their second
// reading, as the rules hold and release them, and returns it by time.
func (u *ui) holdLocked(e protocol.Entry, out checkpoint.Outcome, name string) []screen.Held {
	key := e.Pass
	if e.Visitor != nil {
		key, name = visitorHoldKey(*e.Visitor), e.Visitor.Name
	}
	if key != "" {
		switch {
		case out.Hold:
			r := u.g.cfg.Rules
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
func (u *ui) Refresh(ctx context.Context) {
	if l := u.lists(ctx); l != nil {
		u.g.screen.Update(func(s *screen.State) { s.Lists = l })
	}
}

func (u *ui) lists(ctx context.Context) *screen.Lists {
	keys, list, stale, err := u.g.verifier.State(ctx)
	if err != nil {
		u.g.log.Warn("pass keys or status list unreadable", "err", err)
	}
	return &screen.Lists{Keys: keys, Status: list, Stale: stale}
}
