// Package passcheck verifies a scanned entry pass at the gate with no
// network: the signature against the hub's key set, the validity dates
// against the kiosk's clock, the site, and the hub's status list (revoked,
// home observation). It reports how fresh that list is, so the guard and
// the hub learn when a kiosk has been cut off too long.
//
// Check is pure; Verifier adds the source of the key set and status list
// (downlink payloads) and the clock. Only the kiosk's packages import it.
package passcheck

import (
	"errors"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// Verdict is what a scanned text turned out to be. The values are also
// reason codes in journal entries.
type Verdict string

// The verdicts, from "not ours at all" to "good".
const (
	NotAPass        Verdict = "not_a_pass"       // another QR code: a payment code, a web link
	Malformed       Verdict = "malformed"        // "GP1:" but damaged, truncated or oversized
	UnknownVersion  Verdict = "unknown_version"  // a newer pass format: update the kiosk
	UnknownKey      Verdict = "unknown_key"      // signed by a key this kiosk does not know
	KeyRetired      Verdict = "key_retired"      // signed by a key past its not_after
	Forged          Verdict = "forged"           // the signature does not match: altered or forged
	WrongSite       Verdict = "wrong_site"       // a pass of another compound
	Revoked         Verdict = "revoked"          // on the status list as revoked
	HomeObservation Verdict = "home_observation" // under home observation: must not go out
	NotYetValid     Verdict = "not_yet_valid"
	Expired         Verdict = "expired"
	Valid           Verdict = "valid"
)

// DefaultSkew is how far the kiosk's clock may be off before a pass's
// dates count against it: verifier apps allow 30 s against a synced clock;
// a kiosk that has been offline for days drifts more.
const DefaultSkew = 5 * time.Minute

// DefaultMaxAge is how old a status list may be before the kiosk warns.
const DefaultMaxAge = 24 * time.Hour

// Result is the verdict on one scanned text, with what the guard and the
// journal need.
type Result struct {
	Verdict Verdict
	// Pass is what the text says, when it decoded: also for Forged and
	// UnknownKey, where nothing in it can be trusted.
	Pass *protocol.Pass
	// Status is the status list's entry for the pass (Revoked,
	// HomeObservation).
	Status *protocol.StatusEntry
	// Detail is a technical sentence for logs, never for the guard.
	Detail string
	// NoKeys: the kiosk holds no key set yet, so no pass can be valid.
	NoKeys bool
	// Stale: the status list is missing, of another site, or older than
	// the freshness limit. Passes are still checked; the guard is warned.
	Stale bool
	// ClockBehind: the kiosk's clock is earlier than the hub's when it made
	// the key set or status list (beyond the skew): the clock was reset or
	// its battery died, and the pass's dates cannot be trusted to it.
	ClockBehind bool
	// ListVersion and ListIssued describe the status list used (0 and zero
	// time when none).
	ListVersion uint64
	ListIssued  time.Time
}

// Trusted reports whether the pass's contents can be believed: the hub
// signed it with a key the kiosk accepts.
func (r Result) Trusted() bool {
	switch r.Verdict {
	case Valid, WrongSite, Revoked, HomeObservation, NotYetValid, Expired:
		return true
	}
	return false
}

// Params are what a check is judged against.
type Params struct {
	Site   string               // the kiosk's site
	Keys   *protocol.KeySet     // nil: none received yet
	List   *protocol.StatusList // nil: none received yet
	Now    time.Time
	Skew   time.Duration // tolerated clock error for the pass's dates
	MaxAge time.Duration // status list freshness limit
}

// Check verifies text. It never panics and looks at no more than
// protocol.MaxPassText bytes of a pass.
func Check(text string, p Params) Result {
	r := Result{NoKeys: p.Keys == nil}
	r.Stale, r.Detail = stale(p)
	earliest := p.Now.Add(p.Skew)
	r.ClockBehind = (p.Keys != nil && earliest.Before(p.Keys.Issued)) || (p.List != nil && earliest.Before(p.List.Issued))
	if p.List != nil {
		r.ListVersion, r.ListIssued = p.List.Version, p.List.Issued
	}
	sp, err := protocol.ParsePass(text)
	switch {
	case errors.Is(err, protocol.ErrNotPass):
		return r.with(NotAPass, err)
	case errors.Is(err, protocol.ErrPassVersion):
		return r.with(UnknownVersion, err)
	case err != nil:
		return r.with(Malformed, err)
	}
	pass := sp.Pass
	r.Pass = &pass
	var key *protocol.PublicKey
	if p.Keys != nil {
		key = p.Keys.Find(pass.Key)
	}
	switch {
	case key == nil:
		return r.with(UnknownKey, errors.New("key "+pass.Key+" is not in the key set"))
	case !sp.Verify(key.Key):
		return r.with(Forged, errors.New("signature does not match key "+pass.Key))
	case key.NotAfter != nil && p.Now.After(key.NotAfter.Add(p.Skew)):
		return r.with(KeyRetired, errors.New("key "+pass.Key+" was accepted until "+key.NotAfter.Format(time.RFC3339)))
	case pass.Site != p.Site:
		return r.with(WrongSite, errors.New("pass of site "+pass.Site+", this kiosk guards "+p.Site))
	}
	if p.List != nil && p.List.Site == p.Site {
		if e := p.List.Find(pass.ID); e != nil && e.Active(p.Now) {
			r.Status = e
			if e.Status == protocol.StatusRevoked {
				return r.with(Revoked, nil)
			}
			return r.with(HomeObservation, nil)
		}
	}
	switch {
	case p.Now.Add(p.Skew).Before(pass.ValidFrom):
		return r.with(NotYetValid, nil)
	case !p.Now.Add(-p.Skew).Before(pass.ValidUntil):
		return r.with(Expired, nil)
	}
	return r.with(Valid, nil)
}

func (r Result) with(v Verdict, err error) Result {
	r.Verdict = v
	if err != nil {
		if r.Detail != "" {
			r.Detail = err.Error() + "; " + r.Detail
		} else {
			r.Detail = err.Error()
		}
	}
	return r
}

func stale(p Params) (bool, string) {
	switch {
	case p.List == nil:
		return true, "no status list received yet"
	case p.List.Site != p.Site:
		return true, "status list is for site " + p.List.Site
	case p.MaxAge > 0 && p.Now.Sub(p.List.Issued) > p.MaxAge:
		return true, "status list issued " + p.List.Issued.Format(time.RFC3339) + " is older than " + p.MaxAge.String()
	}
	return false, ""
}
