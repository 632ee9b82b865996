package daemon

import (
	"context"
	"log/slog"

	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/kiosk/screen"
)

// showDevices puts the devices' states on the screen, and the sentence
// for the guard when the thermometer needs a person.
func (d *Daemon) showDevices(states []screen.Device) {
	d.screen.Update(func(s *screen.State) {
		s.Devices = states
		// A device sentence never hides another problem (a journal that
		// cannot be written).
		if s.Problem == "" || s.Problem == msgThermometerGone || s.Problem == msgScannerGone {
			s.Problem = deviceProblem(states)
		}
	})
}

func deviceProblem(states []screen.Device) string {
	for _, st := range states {
		if st.State == StateConnected {
			continue
		}
		switch st.Name {
		case "thermometer":
			return msgThermometerGone
		case "scanner":
			return msgScannerGone
		}
	}
	return ""
}

// calibrationOffset is the offset of the kiosk's latest calibration, 0
// if it was never calibrated.
func calibrationOffset(j *journal.Journal, log *slog.Logger) float64 {
	c, ok, err := j.CurrentCalibration(context.Background())
	if err != nil {
		log.Error("read calibration; using offset 0", "err", err)
		return 0
	}
	if !ok {
		return 0
	}
	log.Info("thermometer calibration", "offset_c", c.OffsetC, "time", c.Time, "by", c.By)
	return c.OffsetC
}
