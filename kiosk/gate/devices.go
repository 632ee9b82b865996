package gate

import (
	"context"
	"errors"
	"math"

	"github.com/gatepost/gatepost/hardware/device"
	"github.com/gatepost/gatepost/hardware/thermometer"
	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/protocol"
)

// read takes one temperature reading, or returns nil when none could be
// had in time or the reading is not plausibly a person's temperature (the
// rules then ask for a re-measure). why is then the reason code of a
// refused reading: below_range, above_range, too_close, too_far.
func (g *Gate) read(ctx context.Context) (_ *protocol.Reading, why string) {
	r, err := g.therm.Read(ctx, g.cfg.Thermometer.Timeout.D())
	if err != nil {
		return nil, ""
	}
	if err := g.limits.Check(r, g.offset); err != nil {
		var re *thermometer.RemeasureError
		if errors.As(err, &re) {
			why = re.Reason
		}
		g.log.Info("reading refused", "object", r.Object, "body", r.Body, "distance", r.Distance, "offset", g.offset, "why", err)
		return nil, why
	}
	var body *float64
	if r.HasBody {
		body = &r.Body
	}
	out := &protocol.Reading{ObjectC: r.Object, BodyC: body}
	if r.HasAmbient {
		out.AmbientC = &r.Ambient
	}
	if r.HasDistance {
		out.DistCM = &r.Distance
	}
	out.OffsetC = g.offset
	out.ScreenedC = round2(checkpoint.Screened(r.Object, body, g.offset))
	return out, ""
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// ShowDevices puts the devices' states on the screen, and the sentence
// for the guard when a device needs a person. The daemon calls it when a
// device's state changes.
func (g *Gate) ShowDevices() {
	g.screen.Update(func(s *screen.State) {
		states := []screen.Device{screenDevice(g.therm.Status()), screenDevice(g.scan.Status())}
		s.Devices = states
		// A device sentence never hides another problem (a journal that
		// cannot be written).
		if s.Problem == "" || s.Problem == Sentence(KeyThermometerGone) || s.Problem == Sentence(KeyScannerGone) {
			s.Problem = deviceProblem(states)
		}
	})
}

func screenDevice(st device.Status) screen.Device {
	return screen.Device{Name: st.Name, State: st.State, Detail: st.Detail, Port: st.Port}
}

func deviceProblem(states []screen.Device) string {
	for _, st := range states {
		if st.State == device.StateConnected {
			continue
		}
		switch st.Name {
		case device.NameThermometer:
			return Sentence(KeyThermometerGone)
		case device.NameScanner:
			return Sentence(KeyScannerGone)
		}
	}
	return ""
}

// problem is a plain sentence about the thermometer when it needs a
// person, or "".
func (g *Gate) problem() string {
	if g.therm.Status().State != device.StateConnected {
		return Sentence(KeyThermometerGone)
	}
	return ""
}
