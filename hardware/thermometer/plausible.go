package thermometer

import (
	"errors"
	"fmt"

	"github.com/gatepost/gatepost/hardware"
)

// Limits are what a reading must satisfy to count as a person's
// temperature. Zero fields take defaults.
type Limits struct {
	// BodyMinC and BodyMaxC bound the screened value (body if the module
	// gives one, else object, plus the calibration offset); defaults
	// 34.0 and 43.0 °C. Below is a cold forehead, a sleeve or nobody;
	// above is a hot drink, sunlight or a fault.
	BodyMinC, BodyMaxC float64
	// DistanceMinCM and DistanceMaxCM bound the distance when the module
	// reports one; zero means no bound (5-50 cm is typical).
	DistanceMinCM, DistanceMaxCM float64
}

// Default plausibility limits.
const (
	DefaultBodyMinC = 34.0
	DefaultBodyMaxC = 43.0
)

// WithDefaults returns l with zero body bounds set to the defaults.
func (l Limits) WithDefaults() Limits {
	if l.BodyMinC == 0 {
		l.BodyMinC = DefaultBodyMinC
	}
	if l.BodyMaxC == 0 {
		l.BodyMaxC = DefaultBodyMaxC
	}
	return l
}

// Validate names the first bad limit: a *hardware.SettingError naming
// the pair of settings, as kiosk.toml's [thermometer] section spells
// them. Zero body bounds stand for the defaults.
func (l Limits) Validate() error {
	l = l.WithDefaults()
	body := func(want string) error {
		return &hardware.SettingError{Setting: "body_min_c/body_max_c", Value: span(fmt.Sprintf("%v-%v", l.BodyMinC, l.BodyMaxC)), Want: want}
	}
	distance := func(want string) error {
		return &hardware.SettingError{Setting: "distance_min_cm/distance_max_cm", Value: span(fmt.Sprintf("%v-%v", l.DistanceMinCM, l.DistanceMaxCM)), Want: want}
	}
	switch {
	case l.BodyMinC >= l.BodyMaxC:
		return body("the minimum must be below the maximum, e.g. 34.0-43.0")
	case l.BodyMinC < 20 || l.BodyMaxC > 50:
		return body("must be a range within 20-50 °C, e.g. 34.0-43.0")
	case l.DistanceMinCM < 0 || l.DistanceMaxCM < 0:
		return distance("must not be negative: a window such as 5-50 (0 means no bound)")
	case l.DistanceMaxCM != 0 && l.DistanceMinCM >= l.DistanceMaxCM:
		return distance("the minimum must be below the maximum: a window such as 5-50 (0 means no bound)")
	}
	return nil
}

// span is a range of two values, shown as written ("34-43"), not quoted.
type span string

// ErrRemeasure is wrapped by every *RemeasureError.
var ErrRemeasure = errors.New("measure again")

// RemeasureError says why a reading is not a person's temperature.
type RemeasureError struct {
	Reason string // machine-readable: below_range, above_range, too_close, too_far
	Text   string // a plain sentence for logs and the installer
}

func (e *RemeasureError) Error() string { return "measure again: " + e.Text }
func (e *RemeasureError) Unwrap() error { return ErrRemeasure }

// Reasons a reading is refused.
const (
	ReasonBelowRange = "below_range"
	ReasonAboveRange = "above_range"
	ReasonTooClose   = "too_close"
	ReasonTooFar     = "too_far"
)

// Screened returns the value a gate judges: body if the module gives one,
// else object, plus offset.
func (r Reading) Screened(offsetC float64) float64 {
	if r.HasBody {
		return r.Body + offsetC
	}
	return r.Object + offsetC
}

// Check returns nil if r, with the calibration offset, is plausibly a
// person's temperature, else a *RemeasureError. Distance is checked first:
// out of its window the temperature means nothing.
func (l Limits) Check(r Reading, offsetC float64) error {
	l = l.WithDefaults()
	if r.HasDistance {
		switch {
		case r.Distance != r.Distance: // NaN
			return &RemeasureError{ReasonTooFar, "the module reported no usable distance"}
		case l.DistanceMinCM > 0 && r.Distance < l.DistanceMinCM:
			return &RemeasureError{ReasonTooClose, fmt.Sprintf("%.0f cm is closer than %.0f cm", r.Distance, l.DistanceMinCM)}
		case l.DistanceMaxCM > 0 && r.Distance > l.DistanceMaxCM:
			return &RemeasureError{ReasonTooFar, fmt.Sprintf("%.0f cm is farther than %.0f cm", r.Distance, l.DistanceMaxCM)}
		}
	}
	v := r.Screened(offsetC)
	switch {
	case !(v >= l.BodyMinC): // NaN too
		return &RemeasureError{ReasonBelowRange, fmt.Sprintf("%.2f °C is below %.1f °C", v, l.BodyMinC)}
	case v > l.BodyMaxC:
		return &RemeasureError{ReasonAboveRange, fmt.Sprintf("%.2f °C is above %.1f °C", v, l.BodyMaxC)}
	}
	return nil
}
