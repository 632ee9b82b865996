package checkpoint

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/kiosk/passcheck"
	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

var (
	t0     = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	obsEnd = t0.Add(10 * 24 * time.Hour)
)

func reading(c float64) *protocol.Reading { return &protocol.Reading{ObjectC: c, ScreenedC: c} }

func pass(v passcheck.Verdict, kind protocol.PassKind) *passcheck.Result {
	r := &passcheck.Result{Verdict: v, ListVersion: 7, ListIssued: t0}
	if v != passcheck.NotAPass && v != passcheck.Malformed && v != passcheck.UnknownVersion {
		r.Pass = &protocol.Pass{Key: "k1", ID: "R0000001", Kind: kind, Site: "huamu-1", Unit: "3-502", Name: "王*明",
			ValidFrom: t0.Add(-24 * time.Hour), ValidUntil: t0.Add(100 * 24 * time.Hour)}
	}
	switch v {
	case passcheck.Revoked:
		r.Status = &protocol.StatusEntry{Pass: "R0000001", Status: protocol.StatusRevoked, Reason: "reported lost"}
	case passcheck.HomeObservation:
		r.Status = &protocol.StatusEntry{Pass: "R0000001", Status: protocol.StatusHomeObservation, Until: &obsEnd}
	}
	return r
}

func resident(v passcheck.Verdict) *passcheck.Result { return pass(v, protocol.PassResident) }

func TestDecide(t *testing.T) {
	hard := Defaults()
	soft := Defaults()
	soft.FeverMode = FeverSoft
	measureOnly := Defaults()
	measureOnly.RequirePass = false
	stale := resident(passcheck.Valid)
	stale.Stale = true
	behind := resident(passcheck.NotYetValid)
	behind.ClockBehind = true
	noKeys := resident(passcheck.UnknownKey)
	noKeys.NoKeys = true
	A, D, R, M := protocol.DecisionAlert, protocol.DecisionDeny, protocol.DecisionRemeasure, protocol.DecisionAllow
	for _, tc := range []struct {
		name    string
		in      Input
		rules   Rules
		want    protocol.Decision
		alert   bool
		reasons []string
		say     string // a piece of the English sentence
	}{
		{"valid pass, normal", Input{Pass: resident(passcheck.Valid), Reading: reading(36.6)}, hard, M, false,
			[]string{"pass_valid", protocol.ReasonTemperatureNormal}, "go in"},
		{"just under the line", Input{Pass: resident(passcheck.Valid), Reading: reading(37.29)}, hard, M, false,
			[]string{"pass_valid", protocol.ReasonTemperatureNormal}, "37.2 °C is normal"},
		{"first fever holds", Input{Pass: resident(passcheck.Valid), Reading: reading(37.3)}, hard, R, false,
			[]string{protocol.ReasonFeverHold, "pass_valid"}, "rest a few minutes"},
		{"second reading normal", Input{Pass: resident(passcheck.Valid), Reading: reading(36.9), Recheck: true}, hard, M, false,
			[]string{"pass_valid", protocol.ReasonRecheckNormal}, "Second reading 36.9"},
		{"second fever, hard", Input{Pass: resident(passcheck.Valid), Reading: reading(38.1), Recheck: true}, hard, A, true,
			[]string{protocol.ReasonFeverConfirmed, "pass_valid"}, "no entry, reported"},
		{"second fever, soft", Input{Pass: resident(passcheck.Valid), Reading: reading(38.1), Recheck: true}, soft, M, true,
			[]string{"pass_valid", protocol.ReasonFeverConfirmed, protocol.ReasonSoftMode}, "let in as configured"},
		{"second reading too early", Input{Pass: resident(passcheck.Valid), Reading: reading(38.1), Recheck: true, RestLeft: 61 * time.Second}, hard, R, false,
			[]string{protocol.ReasonFeverRest, "pass_valid"}, "Rest 2 more"},
		{"no reading", Input{Pass: resident(passcheck.Valid)}, hard, R, false,
			[]string{protocol.ReasonNoReading, "pass_valid"}, "measure again"},
		{"revoked alerts", Input{Pass: resident(passcheck.Revoked), Reading: reading(36.5)}, hard, A, true,
			[]string{"pass_revoked", protocol.ReasonTemperatureNormal}, "revoked (reported lost)"},
		{"forged alerts", Input{Pass: resident(passcheck.Forged), Reading: reading(36.5)}, hard, A, true,
			[]string{"pass_forged", protocol.ReasonTemperatureNormal}, "forged"},
		{"forged and feverish", Input{Pass: resident(passcheck.Forged), Reading: reading(38.5)}, hard, A, true,
			[]string{"pass_forged", protocol.ReasonFeverHold}, "forged"},
		{"home observation", Input{Pass: resident(passcheck.HomeObservation), Reading: reading(36.5)}, hard, A, true,
			[]string{protocol.ReasonHomeObservation, protocol.ReasonTemperatureNormal}, "home observation through 2026-03-11"},
		{"expired and feverish: held all the same", Input{Pass: resident(passcheck.Expired), Reading: reading(38.0)}, hard, D, false,
			[]string{"pass_expired", protocol.ReasonFeverHold}, "rest a few minutes"},
		{"expired, fever confirmed", Input{Pass: resident(passcheck.Expired), Reading: reading(38.0), Recheck: true}, hard, A, true,
			[]string{protocol.ReasonFeverConfirmed, "pass_expired"}, "renew it"},
		{"expired", Input{Pass: resident(passcheck.Expired), Reading: reading(36.5)}, hard, D, false,
			[]string{"pass_expired", protocol.ReasonTemperatureNormal}, "valid through 2026-06-09"},
		{"not yet valid", Input{Pass: resident(passcheck.NotYetValid), Reading: reading(36.5)}, hard, D, false,
			[]string{"pass_not_yet_valid", protocol.ReasonTemperatureNormal}, "not valid until"},
		{"wrong site", Input{Pass: resident(passcheck.WrongSite), Reading: reading(36.5)}, hard, D, false,
			[]string{"pass_wrong_site", protocol.ReasonTemperatureNormal}, "another compound"},
		{"unknown key", Input{Pass: resident(passcheck.UnknownKey), Reading: reading(36.5)}, hard, D, false,
			[]string{"pass_unknown_key", protocol.ReasonTemperatureNormal}, "does not know"},
		{"no keys at all", Input{Pass: noKeys, Reading: reading(36.5)}, hard, D, false,
			[]string{"pass_unknown_key", protocol.ReasonTemperatureNormal, protocol.ReasonNoKeys}, "no pass keys yet"},
		{"key retired", Input{Pass: resident(passcheck.KeyRetired), Reading: reading(36.5)}, hard, D, false,
			[]string{"pass_key_retired", protocol.ReasonTemperatureNormal}, "retired"},
		{"not a pass", Input{Pass: resident(passcheck.NotAPass), Reading: reading(36.5)}, hard, D, false,
			[]string{"pass_not_a_pass", protocol.ReasonTemperatureNormal}, "Visitors: tap Visitor registration"},
		{"damaged pass", Input{Pass: resident(passcheck.Malformed), Reading: reading(36.5)}, hard, D, false,
			[]string{"pass_malformed", protocol.ReasonTemperatureNormal}, "Scan it again"},
		{"newer pass format", Input{Pass: resident(passcheck.UnknownVersion), Reading: reading(36.5)}, hard, D, false,
			[]string{"pass_unknown_version", protocol.ReasonTemperatureNormal}, "update the kiosk"},
		{"stale list warns, still allows", Input{Pass: stale, Reading: reading(36.5)}, hard, M, false,
			[]string{"pass_valid", protocol.ReasonTemperatureNormal, protocol.ReasonListStale}, "out of date"},
		{"clock behind", Input{Pass: behind, Reading: reading(36.5)}, hard, D, false,
			[]string{"pass_not_yet_valid", protocol.ReasonTemperatureNormal, protocol.ReasonClockBehind}, "set the clock"},
		{"no scan, pass required", Input{Reading: reading(36.5)}, hard, D, false,
			[]string{protocol.ReasonNoPass, protocol.ReasonTemperatureNormal}, "Show your entry pass"},
		{"impossible reading", Input{Pass: resident(passcheck.Valid), Reading: reading(math.NaN())}, hard, R, false,
			[]string{protocol.ReasonNoReading, "pass_valid"}, "measure again"},
		{"another code, measure only", Input{Pass: resident(passcheck.NotAPass), Reading: reading(36.5)}, measureOnly, M, false,
			[]string{protocol.ReasonTemperatureNormal, "pass_not_a_pass"}, "normal"},
		{"expired, measure only", Input{Pass: resident(passcheck.Expired), Reading: reading(36.5)}, measureOnly, M, false,
			[]string{protocol.ReasonTemperatureNormal, "pass_expired"}, "normal"},
		{"revoked, measure only", Input{Pass: resident(passcheck.Revoked), Reading: reading(36.5)}, measureOnly, A, true,
			[]string{"pass_revoked", protocol.ReasonTemperatureNormal}, "revoked"},
		{"no scan, measure only", Input{Reading: reading(36.5)}, measureOnly, M, false,
			[]string{protocol.ReasonTemperatureNormal, protocol.ReasonNoScan}, "normal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Decide(tc.in, tc.rules)
			if o.Decision != tc.want || o.Alert != tc.alert || !slices.Equal(o.Reasons, tc.reasons) {
				t.Errorf("Decide = %s alert=%v %v, want %s alert=%v %v", o.Decision, o.Alert, o.Reasons, tc.want, tc.alert, tc.reasons)
			}
			if !strings.Contains(o.Say.EN, tc.say) || o.Say.ZH == "" {
				t.Errorf("Decide says %q, want it to contain %q (and Chinese)", o.Say, tc.say)
			}
			if o.Decision == protocol.DecisionAllow && strings.Contains(o.Say.EN, "No entry") {
				t.Errorf("allowed but the guard hears %q", o.Say.EN)
			}
		})
	}
}

func TestVisit(t *testing.T) {
	r := Defaults()
	r.KeyRegions = []string{"湖北", "Hubei"}
	admit := r
	admit.VisitorsAdmitted = true
	full := protocol.Visitor{Name: "陈先生", Contact: "13800000000", From: "浦东 Pudong", Visiting: "5-101", Purpose: "送药 medicine"}
	returnee := full
	returnee.Returnee, returnee.Origin, returnee.Returned = true, "浙江 Zhejiang", "2026-02-27"
	keyReturnee := returnee
	keyReturnee.Origin = "湖北武汉"
	noOrigin := full
	noOrigin.Returnee = true
	noPurpose := full
	noPurpose.Purpose = " "
	for _, tc := range []struct {
		name    string
		in      VisitorInput
		rules   Rules
		want    protocol.Decision
		alert   bool
		reasons []string
	}{
		{"visitors turned back", VisitorInput{Visitor: full, Reading: reading(36.5)}, r, protocol.DecisionDeny, false,
			[]string{protocol.ReasonVisitorsNotAdmitted, protocol.ReasonVisitor, protocol.ReasonTemperatureNormal}},
		{"visitors admitted", VisitorInput{Visitor: full, Reading: reading(36.5)}, admit, protocol.DecisionAllow, false,
			[]string{protocol.ReasonVisitor, protocol.ReasonTemperatureNormal}},
		{"returnee", VisitorInput{Visitor: returnee, Reading: reading(36.5)}, admit, protocol.DecisionAllow, false,
			[]string{protocol.ReasonVisitor, protocol.ReasonTemperatureNormal, protocol.ReasonReturnee}},
		{"key region returnee", VisitorInput{Visitor: keyReturnee, Reading: reading(36.5)}, admit, protocol.DecisionAlert, true,
			[]string{protocol.ReasonKeyRegionReturnee, protocol.ReasonVisitor, protocol.ReasonTemperatureNormal}},
		{"returnee without origin", VisitorInput{Visitor: noOrigin, Reading: reading(36.5)}, admit, protocol.DecisionDeny, false,
			[]string{protocol.ReasonVisitorIncomplete}},
		{"blank purpose", VisitorInput{Visitor: noPurpose, Reading: reading(36.5)}, admit, protocol.DecisionDeny, false,
			[]string{protocol.ReasonVisitorIncomplete}},
		{"visitor with fever", VisitorInput{Visitor: full, Reading: reading(37.8)}, admit, protocol.DecisionRemeasure, false,
			[]string{protocol.ReasonFeverHold, protocol.ReasonVisitor}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Visit(tc.in, tc.rules)
			if o.Decision != tc.want || o.Alert != tc.alert || !slices.Equal(o.Reasons, tc.reasons) {
				t.Errorf("Visit = %s alert=%v %v (%s), want %s alert=%v %v", o.Decision, o.Alert, o.Reasons, o.Say, tc.want, tc.alert, tc.reasons)
			}
		})
	}
}

func TestRecords(t *testing.T) {
	if o := Delivery(3); o.Decision != protocol.DecisionRecord || !strings.Contains(o.Say.EN, "3 parcel") {
		t.Errorf("Delivery(3) = %+v", o)
	}
	if o := Delivery(-5); !strings.Contains(o.Say.EN, "1 parcel") {
		t.Errorf("Delivery(-5) = %+v, want counted as one", o)
	}
	staff := *pass(passcheck.Valid, protocol.PassStaff)
	if o := Disinfection("lift_buttons", staff); o.Decision != protocol.DecisionRecord || o.Reasons[0] != protocol.ReasonDisinfected {
		t.Errorf("Disinfection(lift_buttons, staff) = %+v", o)
	}
	if o := Disinfection("roof", staff); o.Decision != protocol.DecisionDeny || o.Reasons[0] != protocol.ReasonUnknownArea {
		t.Errorf("Disinfection(roof) = %+v", o)
	}
	if o := Disinfection("gate", *resident(passcheck.Valid)); o.Reasons[0] != protocol.ReasonNotGuardPass {
		t.Errorf("Disinfection by a resident = %+v", o)
	}
}

func TestPost(t *testing.T) {
	r := Defaults()
	var p Post
	if _, warn := p.Warning(r); !warn {
		t.Error("an empty post gives no warning")
	}
	vol := *pass(passcheck.Valid, protocol.PassVolunteer)
	staff := *pass(passcheck.Valid, protocol.PassStaff)
	staff.Pass.ID = "S0000001"
	o := p.SignIn(vol, t0, r)
	if o.Decision != protocol.DecisionRecord || !slices.Equal(o.Reasons, []string{protocol.ReasonShiftIn, protocol.ReasonUnderstaffed}) {
		t.Errorf("first sign-in = %+v", o)
	}
	if o := p.SignIn(staff, t0, r); !slices.Equal(o.Reasons, []string{protocol.ReasonShiftIn}) {
		t.Errorf("second sign-in = %+v, want no warning", o)
	}
	if got := p.OnPost(); !slices.Equal(got, []string{"R0000001", "S0000001"}) {
		t.Errorf("OnPost = %v", got)
	}
	if o := p.SignIn(vol, t0, r); o.Reasons[0] != protocol.ReasonAlreadyOnPost {
		t.Errorf("signing in twice = %+v", o)
	}
	if o := p.SignIn(*resident(passcheck.Valid), t0, r); o.Decision != protocol.DecisionDeny || o.Reasons[0] != protocol.ReasonNotGuardPass {
		t.Errorf("resident signing in = %+v", o)
	}
	if o := p.SignIn(*pass(passcheck.Forged, protocol.PassStaff), t0, r); o.Decision != protocol.DecisionDeny {
		t.Errorf("forged staff pass signing in = %+v", o)
	}
	expired := staff
	expired.Verdict = passcheck.Expired
	if o := p.SignOut(expired, r); !slices.Equal(o.Reasons, []string{protocol.ReasonShiftOut, protocol.ReasonUnderstaffed}) {
		t.Errorf("sign out with an expired pass = %+v", o)
	}
	if o := p.SignOut(staff, r); o.Reasons[0] != protocol.ReasonNotOnPost {
		t.Errorf("signing out twice = %+v", o)
	}
}

func TestHolds(t *testing.T) {
	r := Defaults()
	var h Holds
	if re, _ := h.Recheck("R1", t0, r); re {
		t.Fatal("recheck without a hold")
	}
	h.Hold("R1", t0)
	if re, left := h.Recheck("R1", t0.Add(30*time.Second), r); !re || left != 90*time.Second {
		t.Errorf("Recheck after 30s = %v %v, want true 1m30s", re, left)
	}
	if re, left := h.Recheck("R1", t0.Add(3*time.Minute), r); !re || left != 0 {
		t.Errorf("Recheck after 3m = %v %v, want true 0", re, left)
	}
	if re, _ := h.Recheck("R1", t0.Add(31*time.Minute), r); re {
		t.Error("a hold 31 minutes old still counts")
	}
	h.Hold("R2", t0)
	h.Done("R2")
	if re, _ := h.Recheck("R2", t0.Add(3*time.Minute), r); re {
		t.Error("Done did not forget the hold")
	}
	h.Hold("", t0)
	if re, _ := h.Recheck("", t0.Add(3*time.Minute), r); re {
		t.Error("an empty key was held")
	}
}

var reasonCode = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// FuzzDecide: whatever the inputs, a decision the journal accepts, with
// valid reason codes, a sentence for the guard, and an alert whenever the
// decision is alert.
func FuzzDecide(f *testing.F) {
	f.Add(uint8(0), 36.6, false, false, int64(0), true, uint8(0))
	f.Add(uint8(5), 38.0, true, true, int64(time.Minute), false, uint8(1))
	verdicts := []passcheck.Verdict{passcheck.Valid, passcheck.NotAPass, passcheck.Malformed, passcheck.UnknownVersion,
		passcheck.UnknownKey, passcheck.KeyRetired, passcheck.Forged, passcheck.WrongSite, passcheck.Revoked,
		passcheck.HomeObservation, passcheck.NotYetValid, passcheck.Expired, "???"}
	f.Fuzz(func(t *testing.T, v uint8, c float64, hasReading, recheck bool, rest int64, requirePass bool, mode uint8) {
		r := Defaults()
		r.RequirePass = requirePass
		if mode%2 == 1 {
			r.FeverMode = FeverSoft
		}
		in := Input{Recheck: recheck, RestLeft: time.Duration(rest)}
		if int(v) < len(verdicts) { // beyond: nothing scanned
			in.Pass = resident(verdicts[v])
		}
		if hasReading {
			in.Reading = reading(c)
		}
		o := Decide(in, r)
		e := protocoltest.Entry(protocoltest.Kiosk("k"), protocoltest.Seq(1), protocoltest.At(t0), protocoltest.NoReading(),
			protocoltest.With(func(e *protocol.Entry) { e.Decision, e.Reasons, e.Alert = o.Decision, o.Reasons, o.Alert }))
		if err := e.Validate(); err != nil {
			t.Fatalf("Decide(%+v) gives an entry the journal refuses: %v", in, err)
		}
		for _, reason := range o.Reasons {
			if !reasonCode.MatchString(reason) {
				t.Fatalf("bad reason %q", reason)
			}
		}
		if o.Say.ZH == "" || o.Say.EN == "" {
			t.Fatalf("Decide(%+v) says nothing: %+v", in, o)
		}
		if o.Decision == protocol.DecisionAlert && !o.Alert {
			t.Fatalf("alert decision without Alert")
		}
		if o.Hold != (has(o.Reasons, protocol.ReasonFeverHold) && o.Decision != protocol.DecisionAlert) {
			t.Fatalf("hold %v with %s %v", o.Hold, o.Decision, o.Reasons)
		}
	})
}

func TestScreened(t *testing.T) {
	body := 36.9
	if got := Screened(35.1, &body, 0.2); got != 37.1 {
		t.Errorf("Screened(35.1, 36.9, +0.2) = %v, want 37.1 (body plus offset)", got)
	}
	if got := Screened(36.5, nil, -0.5); got != 36.0 {
		t.Errorf("Screened(36.5, nil, -0.5) = %v, want 36.0", got)
	}
}

// FuzzVisit: whatever a guard types into the visitor form, the outcome is
// an entry the journal accepts once its answers are kept only when
// complete, and a key-region returnee always alerts.
func FuzzVisit(f *testing.F) {
	f.Add("陈先生", "138", "浦东", "5-101", "送药", true, "湖北武汉", "2026-02-27", 36.5)
	f.Add("", "", "", "", "", false, "", "", 38.0)
	r := Defaults()
	r.KeyRegions = []string{"湖北"}
	f.Fuzz(func(t *testing.T, name, contact, from, visiting, purpose string, returnee bool, origin, returned string, c float64) {
		v := protocol.Visitor{Name: name, Contact: contact, From: from, Visiting: visiting, Purpose: purpose,
			Returnee: returnee, Origin: origin, Returned: returned}
		o := Visit(VisitorInput{Visitor: v, Reading: reading(c)}, r)
		e := protocoltest.Entry(protocoltest.Kiosk("k"), protocoltest.Seq(1), protocoltest.At(t0), protocoltest.Kind(protocol.KindVisitor),
			protocoltest.NoReading(),
			protocoltest.With(func(e *protocol.Entry) { e.Decision, e.Reasons, e.Alert = o.Decision, o.Reasons, o.Alert }))
		if !has(o.Reasons, protocol.ReasonVisitorIncomplete) {
			e.Visitor = &v
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("Visit(%+v) = %+v: entry refused: %v", v, o, err)
		}
		if has(o.Reasons, protocol.ReasonKeyRegionReturnee) && (o.Decision != protocol.DecisionAlert || !o.Alert) {
			t.Fatalf("key-region returnee not alerted: %+v", o)
		}
		if o.Say.ZH == "" || o.Say.EN == "" {
			t.Fatalf("Visit says nothing: %+v", o)
		}
	})
}
