// Package checkpoint holds the gate's rules: from what the devices
// reported it decides allow, deny, alert or re-measure, with
// machine-readable reasons. It is pure logic: no I/O, no clock.
//
// Only the kiosk's packages import checkpoint.
package checkpoint

import "github.com/gatepost/gatepost/protocol"

// Reason codes a decision carries.
const (
	ReasonTemperatureNormal = "temperature_normal"
	ReasonFever             = "fever"
	ReasonNoReading         = "no_reading"
	ReasonNoScan            = "no_scan"
)

// Rules are the kiosk's thresholds.
type Rules struct {
	FeverC float64 // screened temperature at or above which a person is held
}

// Input is what the devices reported for one person.
type Input struct {
	Scan    string            // scanned text; "" when none
	Reading *protocol.Reading // nil when no usable reading was had
}

// Decide applies the rules to in.
func Decide(in Input, r Rules) (protocol.Decision, []string) {
	var reasons []string
	if in.Scan == "" {
		reasons = append(reasons, ReasonNoScan)
	}
	switch {
	case in.Reading == nil:
		return protocol.DecisionRemeasure, append(reasons, ReasonNoReading)
	case in.Reading.ScreenedC >= r.FeverC:
		return protocol.DecisionAlert, append(reasons, ReasonFever)
	}
	return protocol.DecisionAllow, append(reasons, ReasonTemperatureNormal)
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
