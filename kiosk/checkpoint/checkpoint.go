// Package checkpoint holds the gate's rules: from what the devices
// reported, the verified pass and the kiosk's rules it decides allow, deny,
// alert, re-measure or record, with machine-readable reasons (protocol's
// Reason codes) and what to tell the guard: lines keyed by reason, whose
// words (Chinese first, English) are in the screen's catalogues. It is
// pure logic: no I/O, no clock (times come in as values); Holds and Post
// keep the little state the rules need between scans.
//
// The kiosk's daemon and commands import checkpoint; it imports passcheck,
// screen (for the catalogues' words), protocol and protocol/text.
package checkpoint

import (
	"strings"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// FeverMode says what a confirmed fever does, as temperature terminals
// offer it.
type FeverMode string

// The fever modes.
const (
	FeverHard FeverMode = "hard" // a confirmed fever is turned back and reported
	FeverSoft FeverMode = "soft" // a confirmed fever is let in and reported
)

// Rules are the kiosk's configuration of the rules.
type Rules struct {
	FeverC    float64   // screened temperature at or above which a person is held
	FeverMode FeverMode // what a confirmed fever does
	// RecheckAfter is the rest before the second reading; RecheckWithin
	// how long after the first a scan still counts as the second reading.
	RecheckAfter, RecheckWithin time.Duration
	// RequirePass: a resident must show a pass. false is "measure only"
	// mode: no pass asked, temperature alone decides; a scanned code that
	// is not a good pass is only noted, but revoked, forged and home
	// observation passes still alert.
	RequirePass bool
	// VisitorsAdmitted: registered visitors may go in. The seed's gates
	// turn visitors back, so the default is false.
	VisitorsAdmitted bool
	// KeyRegions are origins that make a returnee an alert: a returnee's
	// origin matches when it contains one of them (case-insensitive).
	KeyRegions []string
	MinOnPost  int            // fewer guards on post than this is a warning (the two-person post)
	Location   *time.Location // for dates shown to the guard; nil is UTC
}

// Defaults are the rules a kiosk runs with unless configured otherwise.
func Defaults() Rules {
	return Rules{FeverC: 37.3, FeverMode: FeverHard, RecheckAfter: 2 * time.Minute, RecheckWithin: 30 * time.Minute,
		RequirePass: true, MinOnPost: 2}
}

// Outcome is a decision with its reasons.
type Outcome struct {
	Decision protocol.Decision
	// Alert: report to the hub at once. Always true with DecisionAlert;
	// also true when a soft-mode fever is let in.
	Alert   bool
	Reasons []string // machine-readable, most important first
	// Lines are what the guard is told, gravest first, as catalogue keys
	// and values; Say is them in words.
	Lines []Line
	Say   Say
	// Hold: a first fever reading; the person rests, and their next scan
	// within Rules.RecheckWithin is the second reading (see Holds).
	Hold bool
}

// severity orders the parts of a decision: the gravest decides.
type severity int

const (
	sevNote severity = iota // a warning that changes nothing
	sevAllow
	sevRecord
	sevRemeasure
	sevDeny
	sevAlert
)

var decisionOf = map[severity]protocol.Decision{
	sevAllow: protocol.DecisionAllow, sevRecord: protocol.DecisionRecord, sevRemeasure: protocol.DecisionRemeasure,
	sevDeny: protocol.DecisionDeny, sevAlert: protocol.DecisionAlert,
}

// part is one finding: a reason, how grave it is, what to tell the guard.
type part struct {
	sev    severity
	reason string
	say    Line // Key "": nothing to say
	alert  bool // report at once even when sev is below alert (soft fever)
}

// combine turns findings into an outcome: the gravest decides; the guard
// hears the gravest first, then every other problem (re-measure and
// worse), then the notes, but never "go in" beside "no entry".
func combine(parts ...part) Outcome {
	top := sevNote
	for _, p := range parts {
		top = max(top, p.sev)
	}
	if top == sevNote {
		top = sevRecord
	}
	o := Outcome{Decision: decisionOf[top], Reasons: []string{}}
	for _, want := range []func(severity) bool{
		func(s severity) bool { return s == top },
		func(s severity) bool { return s < top && s > sevNote },
		func(s severity) bool { return s == sevNote },
	} {
		for _, p := range parts {
			if p.reason == "" || !want(p.sev) {
				continue
			}
			o.Reasons = append(o.Reasons, p.reason)
			o.Alert = o.Alert || p.alert || p.sev == sevAlert
			if p.say.Key != "" && (p.sev >= top || p.sev >= sevRemeasure || p.sev == sevNote) {
				o.Lines = append(o.Lines, p.say)
			}
		}
	}
	o.Say = Render(o.Lines)
	return o
}

func (r Rules) date(t time.Time) string {
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02")
}

// lastDay is the last day a period ending (exclusively) at end covers: a
// pass valid until 2026-07-01 00:00 is good through 2026-06-30.
func (r Rules) lastDay(end time.Time) string { return r.date(end.Add(-time.Second)) }

// holder is how a pass names its holder to the guard: unit and masked name.
func holder(unit, name string) string { return strings.TrimSpace(unit + " " + name) }
