package checkpoint

import (
	"fmt"
	"math"
	"time"

	"github.com/gatepost/gatepost/kiosk/passcheck"
	"github.com/gatepost/gatepost/protocol"
)

// Reason codes of a person's check. Pass verdicts appear as "pass_" plus
// the verdict (pass_valid, pass_forged, ...), except home_observation.
const (
	ReasonTemperatureNormal = "temperature_normal"
	ReasonRecheckNormal     = "temperature_normal_on_recheck"
	ReasonFeverHold         = "fever_hold"      // first reading at or over the line: rest, then measure again
	ReasonFeverRest         = "fever_rest_more" // second reading came before the rest was over
	ReasonFeverConfirmed    = "fever_confirmed" // second reading still at or over the line
	ReasonSoftMode          = "soft_mode"       // let in despite a confirmed fever, and reported
	ReasonNoReading         = "no_reading"
	ReasonNoScan            = "no_scan" // nothing scanned (measure-only mode)
	ReasonNoPass            = "no_pass" // nothing scanned where a pass is required
	ReasonNoKeys            = "no_keys" // the kiosk has no key set: no pass can be checked
	ReasonListStale         = "status_list_stale"
	ReasonClockBehind       = "kiosk_clock_behind" // the kiosk's clock is behind the hub's
	ReasonHomeObservation   = "home_observation"
)

// PassReason is the reason code for a pass verdict; a verdict this build
// does not know is "pass_unchecked", never a malformed code.
func PassReason(v passcheck.Verdict) string {
	switch v {
	case passcheck.HomeObservation:
		return ReasonHomeObservation
	case passcheck.Valid, passcheck.NotAPass, passcheck.Malformed, passcheck.UnknownVersion, passcheck.UnknownKey,
		passcheck.KeyRetired, passcheck.Forged, passcheck.WrongSite, passcheck.Revoked, passcheck.NotYetValid, passcheck.Expired:
		return "pass_" + string(v)
	}
	return "pass_unchecked"
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
			parts = append(parts, part{sevDeny, ReasonNoPass, Say{
				"请出示出入证；访客请点“访客登记”。",
				"Show your entry pass. Visitors: tap Visitor registration."}, false})
		} else {
			parts = append(parts, part{sev: sevNote, reason: ReasonNoScan})
		}
	} else {
		parts = append(parts, passParts(*in.Pass, r)...)
	}
	parts = append(parts, temperatureParts(in.Reading, in.Recheck, in.RestLeft, r)...)
	o := combine(parts...)
	// A first high reading holds the person for a second even when the
	// pass is refused: a fever is reported once confirmed, pass or not.
	// An alert is reported already.
	o.Hold = o.Decision != protocol.DecisionAlert && has(o.Reasons, ReasonFeverHold)
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
	deny := func(zh, en string) part { return part{sevDeny, reason, Say{zh, en}, false} }
	alert := func(zh, en string) part { return part{sevAlert, reason, Say{zh, en}, true} }
	var main part
	switch res.Verdict {
	case passcheck.Valid:
		main = part{sevAllow, reason, Say{
			fmt.Sprintf("出入证有效：%s。", holder(p.Unit, p.Name)),
			fmt.Sprintf("Pass valid: %s.", holder(p.Unit, p.Name))}, false}
	case passcheck.NotAPass:
		main = deny("这不是本系统的出入证。住户请出示出入证；访客请点“访客登记”。",
			"This is not a gatepost pass. Residents: show your entry pass. Visitors: tap Visitor registration.")
	case passcheck.Malformed:
		main = deny("出入证无法识别（可能污损）。请重扫一次；仍不行请到居委会补办。",
			"The pass cannot be read (damaged?). Scan it again; if it still fails, get a new one at the committee office.")
	case passcheck.UnknownVersion:
		main = deny("本机不支持这种新版出入证，请联系维护人员更新本机。",
			"This pass is a newer format than this kiosk reads: ask maintenance to update the kiosk.")
	case passcheck.UnknownKey:
		if res.NoKeys {
			main = deny("本机尚未收到居委会的密钥，无法核验出入证：请联系维护人员，并手工登记。",
				"This kiosk has no pass keys yet and cannot check passes: call maintenance and register people on paper.")
		} else {
			main = deny("此证的签发密钥本机不认识：请到居委会核实。",
				"This pass was signed with a key this kiosk does not know: check it with the committee office.")
		}
	case passcheck.KeyRetired:
		main = deny("此证使用的密钥已停用，请到居委会换新证。",
			"This pass's signing key has been retired: get a new pass at the committee office.")
	case passcheck.Forged:
		main = alert("出入证校验失败，疑似伪造或被改动。不得入内，已上报。",
			"The pass fails its signature check: it may be forged or altered. No entry; reported.")
	case passcheck.WrongSite:
		main = deny(fmt.Sprintf("此证属于其他小区（%s），本门岗不能放行。", p.Site),
			fmt.Sprintf("This pass is for another compound (%s): no entry here.", p.Site))
	case passcheck.Revoked:
		why := ""
		if res.Status != nil && res.Status.Reason != "" {
			why = res.Status.Reason
		}
		main = alert(fmt.Sprintf("此出入证已作废（%s）。不得入内，已上报。", why),
			fmt.Sprintf("This pass has been revoked (%s). No entry; reported.", why))
	case passcheck.HomeObservation:
		until := ""
		if res.Status != nil && res.Status.Until != nil {
			until = r.lastDay(*res.Status.Until)
		}
		main = alert(fmt.Sprintf("%s 居家观察中，至 %s。不得外出，已上报。", holder(p.Unit, p.Name), until),
			fmt.Sprintf("%s is under home observation through %s: must not go out. Reported.", holder(p.Unit, p.Name), until))
	case passcheck.NotYetValid:
		main = deny(fmt.Sprintf("出入证尚未生效（%s 起）。", r.date(p.ValidFrom)),
			fmt.Sprintf("This pass is not valid until %s.", r.date(p.ValidFrom)))
	case passcheck.Expired:
		main = deny(fmt.Sprintf("出入证有效期至 %s，已过期，请到居委会换证。", r.lastDay(p.ValidUntil)),
			fmt.Sprintf("This pass was valid through %s: renew it at the committee office.", r.lastDay(p.ValidUntil)))
	default:
		main = deny("出入证无法核验，请联系维护人员。", "The pass cannot be checked: call maintenance.")
	}
	if !r.RequirePass && main.sev == sevDeny {
		// Measure-only mode asks for no pass: a bad or foreign code is
		// noted, not a refusal. Revoked, forged and home observation
		// still alert.
		main = part{sev: sevNote, reason: main.reason}
	}
	parts := []part{main}
	if res.NoKeys {
		parts = append(parts, part{sev: sevNote, reason: ReasonNoKeys})
	}
	if res.ClockBehind {
		parts = append(parts, part{sevNote, ReasonClockBehind, Say{
			"提示：本机时钟慢于居委会服务器，出入证日期可能误判，请联系维护人员校时。",
			"Note: this kiosk's clock is behind the hub's, so pass dates may be misjudged: ask maintenance to set the clock."}, false})
	}
	if res.Stale {
		parts = append(parts, part{sevNote, ReasonListStale, Say{
			"提示：作废名单未及时更新，请检查与居委会的网络。",
			"Note: the revoked-pass list is out of date: check the link to the hub."}, false})
	}
	return parts
}

// temperatureParts judges a reading: the first at or over the line holds
// the person for a second after a rest; the second decides.
func temperatureParts(rd *protocol.Reading, recheck bool, restLeft time.Duration, r Rules) []part {
	if rd != nil && rd.Validate() != nil {
		rd = nil // NaN or out of any thermopile's range: not a reading
	}
	switch {
	case rd == nil:
		return []part{{sevRemeasure, ReasonNoReading, Say{
			"未测到体温，请对准测温仪重测。",
			"No temperature reading: face the thermometer and measure again."}, false}}
	case recheck && restLeft > 0:
		m := int((restLeft + time.Minute - 1) / time.Minute)
		return []part{{sevRemeasure, ReasonFeverRest, Say{
			fmt.Sprintf("请再休息 %d 分钟后复测。", m),
			fmt.Sprintf("Rest %d more minute(s), then measure again.", m)}, false}}
	case rd.ScreenedC < r.FeverC && recheck:
		return []part{{sevAllow, ReasonRecheckNormal, Say{
			fmt.Sprintf("复测体温 %s℃ 正常，请通行。", celsius(rd.ScreenedC)),
			fmt.Sprintf("Second reading %s °C is normal: go in.", celsius(rd.ScreenedC))}, false}}
	case rd.ScreenedC < r.FeverC:
		return []part{{sevAllow, ReasonTemperatureNormal, Say{
			fmt.Sprintf("体温 %s℃ 正常，请通行。", celsius(rd.ScreenedC)),
			fmt.Sprintf("%s °C is normal: go in.", celsius(rd.ScreenedC))}, false}}
	case !recheck:
		return []part{{sevRemeasure, ReasonFeverHold, Say{
			fmt.Sprintf("体温 %s℃ 偏高：请在旁休息几分钟后复测（请用体温计确认）。", celsius(rd.ScreenedC)),
			fmt.Sprintf("%s °C is high: rest a few minutes aside, then measure again (confirm with a clinical thermometer).", celsius(rd.ScreenedC))}, false}}
	case r.FeverMode == FeverSoft:
		return []part{
			{sevAllow, ReasonFeverConfirmed, Say{
				fmt.Sprintf("复测体温仍偏高 %s℃：按设置放行，已上报，请提醒就医。", celsius(rd.ScreenedC)),
				fmt.Sprintf("Second reading still high, %s °C: let in as configured, reported; advise a doctor's visit.", celsius(rd.ScreenedC))}, true},
			{sev: sevNote, reason: ReasonSoftMode},
		}
	}
	return []part{{sevAlert, ReasonFeverConfirmed, Say{
		fmt.Sprintf("复测体温仍偏高 %s℃：不得入内，已上报，请按发热处置流程处理。", celsius(rd.ScreenedC)),
		fmt.Sprintf("Second reading still high, %s °C: no entry, reported. Follow the fever procedure.", celsius(rd.ScreenedC))}, false}}
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
