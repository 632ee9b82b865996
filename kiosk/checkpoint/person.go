package checkpoint

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gatepost/gatepost/kiosk/passcheck"
	"github.com/gatepost/gatepost/protocol"
)

// PassReason is the reason code for a pass verdict; a verdict this build
// does not know is protocol.ReasonPassUnchecked, never a malformed code.
func PassReason(v passcheck.Verdict) string {
	switch v {
	case passcheck.HomeObservation:
		return protocol.ReasonHomeObservation
	case passcheck.Valid, passcheck.NotAPass, passcheck.Malformed, passcheck.UnknownVersion, passcheck.UnknownKey,
		passcheck.KeyRetired, passcheck.Forged, passcheck.WrongSite, passcheck.Revoked, passcheck.NotYetValid, passcheck.Expired:
		return "pass_" + string(v)
	}
	return protocol.ReasonPassUnchecked
}

// Input is what the gate knows about one person at a check.
type Input struct {
	// Pass is the verifier's result for the scanned text; nil when nothing
	// was scanned.
	Pass *passcheck.Result
	// Reading is the temperature; nil when no usable reading was had.
	Reading *protocol.Reading
	// Recheck: this is the second reading after a fever hold (Holds).
	Recheck bool
	// RestLeft: the second reading came this much too early.
	RestLeft time.Duration
}

// Decide applies the rules to one person: pass and temperature.
func Decide(in Input, r Rules) Outcome {
	var parts []part
	if in.Pass == nil {
		if r.RequirePass {
			parts = append(parts, part{sevDeny, protocol.ReasonNoPass, say("say_no_pass"), false})
		} else {
			parts = append(parts, part{sev: sevNote, reason: protocol.ReasonNoScan})
		}
	} else {
		parts = append(parts, passParts(*in.Pass, r)...)
	}
	parts = append(parts, temperatureParts(in.Reading, in.Recheck, in.RestLeft, r)...)
	o := combine(parts...)
	// A first high reading holds the person for a second even when the
	// pass is refused: a fever is reported once confirmed, pass or not.
	// An alert is reported already.
	o.Hold = o.Decision != protocol.DecisionAlert && has(o.Reasons, protocol.ReasonFeverHold)
	return o
}

func has(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// passParts judges a verified pass.
func passParts(res passcheck.Result, r Rules) []part {
	p := res.Pass
	reason := PassReason(res.Verdict)
	// Each verdict's sentence is keyed by its reason (say_pass_forged...).
	line := say("say_" + reason)
	sev := sevDeny
	switch res.Verdict {
	case passcheck.Valid:
		sev, line = sevAllow, say("say_pass_valid", arg("holder", holder(p.Unit, p.Name)))
	case passcheck.UnknownKey:
		if res.NoKeys {
			line = say("say_pass_unknown_key_no_keys")
		}
	case passcheck.Forged:
		sev = sevAlert
	case passcheck.WrongSite:
		line = say("say_pass_wrong_site", arg("site", p.Site))
	case passcheck.Revoked:
		why := ""
		if res.Status != nil && res.Status.Reason != "" {
			why = res.Status.Reason
		}
		sev, line = sevAlert, say("say_pass_revoked", arg("why", why))
	case passcheck.HomeObservation:
		until := ""
		if res.Status != nil && res.Status.Until != nil {
			until = r.lastDay(*res.Status.Until)
		}
		sev, line = sevAlert, say("say_home_observation", arg("holder", holder(p.Unit, p.Name)), arg("until", until))
	case passcheck.NotYetValid:
		line = say("say_pass_not_yet_valid", arg("date", r.date(p.ValidFrom)))
	case passcheck.Expired:
		line = say("say_pass_expired", arg("date", r.lastDay(p.ValidUntil)))
	}
	main := part{sev, reason, line, sev == sevAlert}
	if !r.RequirePass && main.sev == sevDeny {
		// Measure-only mode asks for no pass: a bad or foreign code is
		// noted, not a refusal. Revoked, forged and home observation
		// still alert.
		main = part{sev: sevNote, reason: main.reason}
	}
	parts := []part{main}
	if res.NoKeys {
		parts = append(parts, part{sev: sevNote, reason: protocol.ReasonNoKeys})
	}
	if res.ClockBehind {
		parts = append(parts, part{sevNote, protocol.ReasonClockBehind, say("say_kiosk_clock_behind"), false})
	}
	if res.Stale {
		parts = append(parts, part{sevNote, protocol.ReasonListStale, say("say_status_list_stale"), false})
	}
	return parts
}

// temperatureParts judges a reading: the first at or over the line holds
// the person for a second after a rest; the second decides.
func temperatureParts(rd *protocol.Reading, recheck bool, restLeft time.Duration, r Rules) []part {
	if rd != nil && rd.Validate() != nil {
		rd = nil // NaN or out of any thermopile's range: not a reading
	}
	if rd == nil {
		return []part{{sevRemeasure, protocol.ReasonNoReading, say("say_no_reading"), false}}
	}
	c := arg("c", celsius(rd.ScreenedC))
	switch {
	case recheck && restLeft > 0:
		m := int((restLeft + time.Minute - 1) / time.Minute)
		return []part{{sevRemeasure, protocol.ReasonFeverRest, say("say_fever_rest_more", arg("minutes", strconv.Itoa(m))), false}}
	case rd.ScreenedC < r.FeverC && recheck:
		return []part{{sevAllow, protocol.ReasonRecheckNormal, say("say_temperature_normal_on_recheck", c), false}}
	case rd.ScreenedC < r.FeverC:
		return []part{{sevAllow, protocol.ReasonTemperatureNormal, say("say_temperature_normal", c), false}}
	case !recheck:
		return []part{{sevRemeasure, protocol.ReasonFeverHold, say("say_fever_hold", c), false}}
	case r.FeverMode == FeverSoft:
		return []part{
			{sevAllow, protocol.ReasonFeverConfirmed, say("say_fever_confirmed_soft_mode", c), true},
			{sev: sevNote, reason: protocol.ReasonSoftMode},
		}
	}
	return []part{{sevAlert, protocol.ReasonFeverConfirmed, say("say_fever_confirmed", c), false}}
}

// celsius shows a temperature to one decimal, rounded down, so that a
// reading under the line never shows as the line itself (37.29 is 37.2,
// not 37.3).
func celsius(c float64) string {
	return fmt.Sprintf("%.1f", math.Floor(c*10+1e-9)/10)
}

// Screened returns the value the rules judge: the module's compensated body
// temperature when it gives one, else the raw object temperature, plus the
// kiosk's calibration offset.
func Screened(objectC float64, bodyC *float64, offsetC float64) float64 {
	v := objectC
	if bodyC != nil {
		v = *bodyC
	}
	return v + offsetC
}

// PassOutcome is what the rules make of a pass alone, without a
// temperature: for `kiosk verify` and for a guard checking a pass by hand.
func PassOutcome(res passcheck.Result, r Rules) Outcome {
	return combine(passParts(res, r)...)
}
