package checkpoint

import (
	"slices"
	"strconv"
	"time"

	"github.com/gatepost/gatepost/kiosk/passcheck"
	"github.com/gatepost/gatepost/protocol"
)

// Post is who is on duty at the gate: guards sign in and out with their
// volunteer or staff pass, and every entry records who was on post. The
// seed's gates are a two-person post: at least one volunteer and one
// property-security guard. Not safe for concurrent use.
type Post struct {
	on map[string]guard
}

type guard struct {
	name  string
	since time.Time
}

// maxOnPost bounds the guards signed in at one gate.
const maxOnPost = 8

// SignIn puts the holder of res on post at now.
func (p *Post) SignIn(res passcheck.Result, now time.Time, r Rules) Outcome {
	if g := guardPart(res); g != nil {
		return combine(*g)
	}
	id := res.Pass.ID
	if _, ok := p.on[id]; ok {
		return combine(part{sevRecord, protocol.ReasonAlreadyOnPost, say("say_already_on_post", arg("name", res.Pass.Name)), false},
			p.staffing(r))
	}
	if len(p.on) >= maxOnPost {
		return combine(part{sevDeny, protocol.ReasonAlreadyOnPost, say("say_already_on_post_full"), false})
	}
	if p.on == nil {
		p.on = map[string]guard{}
	}
	p.on[id] = guard{name: res.Pass.Name, since: now}
	return combine(part{sevRecord, protocol.ReasonShiftIn, say("say_shift_in", arg("name", res.Pass.Name)), false},
		p.staffing(r))
}

// SignOut takes the holder of res off post. A guard may sign out with a
// pass that has since expired: leaving needs no permission.
func (p *Post) SignOut(res passcheck.Result, r Rules) Outcome {
	if !res.Trusted() || res.Pass == nil {
		return combine(*guardPart(res))
	}
	if _, ok := p.on[res.Pass.ID]; !ok {
		return combine(part{sevDeny, protocol.ReasonNotOnPost, say("say_not_on_post", arg("name", res.Pass.Name)), false})
	}
	delete(p.on, res.Pass.ID)
	return combine(part{sevRecord, protocol.ReasonShiftOut, say("say_shift_out", arg("name", res.Pass.Name)), false},
		p.staffing(r))
}

// Restore puts guards back on post as the journal last recorded them, for
// a kiosk restarting: a restart signs nobody out. Their names are not in
// the journal; they come back when each guard next scans.
func (p *Post) Restore(ids []string, since time.Time) {
	if p.on == nil {
		p.on = map[string]guard{}
	}
	for _, id := range ids {
		if _, ok := p.on[id]; !ok && len(p.on) < maxOnPost {
			p.on[id] = guard{since: since}
		}
	}
}

// OnPost returns the pass ids of the guards on post, sorted.
func (p *Post) OnPost() []string {
	ids := make([]string, 0, len(p.on))
	for id := range p.on {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Warning returns the guard's warning when fewer than Rules.MinOnPost are
// on post.
func (p *Post) Warning(r Rules) (Say, bool) {
	s := p.staffing(r)
	if s.reason == "" {
		return Say{}, false
	}
	return Render([]Line{s.say}), true
}

func (p *Post) staffing(r Rules) part {
	if n := len(p.on); n < r.MinOnPost {
		return part{sevNote, protocol.ReasonUnderstaffed,
			say("say_post_understaffed", arg("n", strconv.Itoa(n)), arg("min", strconv.Itoa(r.MinOnPost))), false}
	}
	return part{sev: sevNote}
}
