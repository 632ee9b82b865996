package text

import (
	"testing"

	"github.com/gatepost/gatepost/protocol"
)

func TestEveryCodeHasWordsInEveryLanguage(t *testing.T) {
	for _, lang := range Languages {
		c := Catalogue(lang)
		check := func(prefix string, codes []string) {
			for _, code := range codes {
				if c[prefix+code] == "" {
					t.Errorf("%s: no words for %s%s", lang, prefix, code)
				}
			}
		}
		check("reason.", protocol.Reasons)
		check("area.", protocol.Areas)
		check("decision.", []string{string(protocol.DecisionAllow), string(protocol.DecisionDeny),
			string(protocol.DecisionAlert), string(protocol.DecisionRemeasure), string(protocol.DecisionRecord)})
		check("kind.", []string{string(protocol.KindCheck), string(protocol.KindVisitor), string(protocol.KindDelivery),
			string(protocol.KindShiftIn), string(protocol.KindShiftOut), string(protocol.KindDisinfection)})
		check("alert.", []string{protocol.AlertRefused})
		check("refused.", protocol.RefusalReasons)
		if len(c) != len(Catalogue(Languages[0])) {
			t.Errorf("%s has %d keys, %s %d: the catalogues differ", lang, len(c), Languages[0], len(Catalogue(Languages[0])))
		}
	}
}

func TestLabels(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Reason("zh-CN", protocol.ReasonFeverConfirmed), "复测仍发热"},
		{Reason("en", protocol.ReasonFeverConfirmed), "fever confirmed"},
		{Reason("fr", protocol.ReasonFeverConfirmed), "复测仍发热"}, // unknown language: Chinese
		{Reason("en", "made_up_by_a_newer_kiosk"), "made_up_by_a_newer_kiosk"},
		{Area("zh-CN", protocol.AreaHandrails), "楼梯扶手"},
		{Decision("en", string(protocol.DecisionAlert)), "alert"},
		{Kind("zh-CN", string(protocol.KindVisitor)), "访客"},
		{Alert("en", protocol.AlertRefused), "messages refused (security)"},
		{Refusal("zh-CN", protocol.RefusedRetired), "终端已停用"},
		{Refusal("en", protocol.RefusedIdentity), "identity differs from its topic"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
