package checkpoint

import (
	"maps"
	"slices"
	"testing"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/passcheck"
	"github.com/gatepost/gatepost/kiosk/words"
	"github.com/gatepost/gatepost/protocol"
)

// Every key checkpoint can produce is in both catalogues: the keys
// written in its code, and those made from a pass verdict's reason.
func TestEveryLineIsInTheCatalogues(t *testing.T) {
	keys := testkit.StringsInCode(t, "say_")
	if len(keys) < 30 {
		t.Fatalf("found %d say_ keys in the source, want the ~45 sentences of the rules", len(keys))
	}
	for _, v := range []passcheck.Verdict{passcheck.Valid, passcheck.NotAPass, passcheck.Malformed, passcheck.UnknownVersion,
		passcheck.UnknownKey, passcheck.KeyRetired, passcheck.Forged, passcheck.WrongSite, passcheck.Revoked,
		passcheck.NotYetValid, passcheck.Expired, passcheck.HomeObservation, "a verdict of a newer build"} {
		keys["say_"+PassReason(v)] = true
	}
	sorted := slices.Sorted(maps.Keys(keys))
	for _, problem := range append(words.MissingKeys(sorted), words.UnevenPlaceholders(sorted)...) {
		t.Error(problem)
	}
}

// Every pass verdict's reason is a protocol reason code.
func TestPassReasonsAreProtocolCodes(t *testing.T) {
	for _, v := range []passcheck.Verdict{passcheck.Valid, passcheck.Forged, passcheck.HomeObservation, "new"} {
		r := PassReason(v)
		found := false
		for _, code := range protocol.Reasons {
			found = found || code == r
		}
		if !found {
			t.Errorf("PassReason(%q) = %q, not in protocol.Reasons", v, r)
		}
	}
}

// A line renders with its values in place, in each language, and an area
// in the reader's words.
func TestLineIn(t *testing.T) {
	l := say("say_disinfected", Arg{Name: "area", Area: protocol.AreaDropPoint}, arg("name", "李*"))
	if got, want := l.In("zh-CN"), "已记录：快递投放点 已消毒（李*）。"; got != want {
		t.Errorf("In(zh-CN) = %q, want %q", got, want)
	}
	if got, want := l.In("en"), "Recorded: the parcel drop point disinfected (李*)."; got != want {
		t.Errorf("In(en) = %q, want %q", got, want)
	}
	m := say("say_visitor_incomplete", Arg{Name: "missing", Keys: []string{"say_missing_name", "say_missing_purpose"}})
	if got, want := Render([]Line{m}), (Say{"请补全登记：姓名、事由。", "Registration incomplete: name, purpose."}); got != want {
		t.Errorf("Render = %+v, want %+v", got, want)
	}
}
