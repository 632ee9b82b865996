package checkpoint

import (
	"slices"
	"testing"

	"github.com/gatepost/gatepost/protocol"
)

func TestDecide(t *testing.T) {
	rules := Rules{FeverC: 37.3}
	reading := func(c float64) *protocol.Reading { return &protocol.Reading{ObjectC: c, ScreenedC: c} }
	for _, tc := range []struct {
		name    string
		in      Input
		want    protocol.Decision
		reasons []string
	}{
		{"normal", Input{"P1", reading(36.6)}, protocol.DecisionAllow, []string{ReasonTemperatureNormal}},
		{"just under the line", Input{"P1", reading(37.29)}, protocol.DecisionAllow, []string{ReasonTemperatureNormal}},
		{"on the line", Input{"P1", reading(37.3)}, protocol.DecisionAlert, []string{ReasonFever}},
		{"fever", Input{"P1", reading(38.4)}, protocol.DecisionAlert, []string{ReasonFever}},
		{"no reading", Input{"P1", nil}, protocol.DecisionRemeasure, []string{ReasonNoReading}},
		{"temperature only", Input{"", reading(36.2)}, protocol.DecisionAllow, []string{ReasonNoScan, ReasonTemperatureNormal}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reasons := Decide(tc.in, rules)
			if got != tc.want || !slices.Equal(reasons, tc.reasons) {
				t.Errorf("Decide(%+v) = %s %v, want %s %v", tc.in, got, reasons, tc.want, tc.reasons)
			}
		})
	}
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
