package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/gatepost/gatepost/hardware/scanner"
	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/hardware/thermometer"
	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/protocol"
)

// Reopening a device that went away: first after reopenMin, doubling to
// reopenMax, so an unplugged cable is retried without flooding the log.
const (
	reopenMin = 200 * time.Millisecond
	reopenMax = 5 * time.Second
)

// devices holds the thermometer and scanner, opening them on first use
// and again after they go away. Simulated devices are real drivers on
// pseudo-terminals with a simulator at the other end.
type devices struct {
	cfg config.Config
	log *slog.Logger

	thermPath, scanPath string
	simTherm            *sim.Thermometer
	simScan             *sim.Scanner

	mu          sync.Mutex // guards therm and scan against Close
	therm       *thermometer.GYMCU90614
	scan        *scanner.Serial
	thermFailed bool
	scanWait    time.Duration
}

// errBadCode is a code the scanner read but that cannot be a pass.
var errBadCode = errors.New("unreadable code")

const msgThermometerGone = "测温仪无读数，请检查连线。 Thermometer not answering: check its cable."

func openDevices(cfg config.Config, log *slog.Logger) (*devices, error) {
	d := &devices{cfg: cfg, log: log, thermPath: cfg.Thermometer.Port, scanPath: cfg.Scanner.Port}
	if cfg.Thermometer.Simulate {
		t, err := sim.NewThermometer(sim.ThermometerOptions{Object: plausibleForehead})
		if err != nil {
			return nil, fmt.Errorf("start simulated thermometer: %w", err)
		}
		d.simTherm, d.thermPath = t, t.Path()
		log.Info("simulated thermometer", "port", d.thermPath)
	}
	if cfg.Scanner.Simulate {
		s, err := sim.NewScanner(sim.ScannerOptions{})
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("start simulated scanner: %w", err)
		}
		d.simScan, d.scanPath = s, s.Path()
		log.Info("simulated scanner", "port", d.scanPath)
	}
	// Open both now, so nothing scanned after start-up is discarded; a
	// device missing now is retried when it is next needed.
	d.openScanner()
	d.openThermometer()
	return d, nil
}

// openScanner opens the scanner's port. Opening discards what the port
// had buffered, so the daemon opens its devices before it says it is ready.
func (d *devices) openScanner() (*scanner.Serial, error) {
	s, err := scanner.OpenSerial(d.scanPath, d.cfg.Scanner.Baud, scanner.SerialOptions{})
	if err != nil {
		d.scanWait = min(max(2*d.scanWait, reopenMin), reopenMax)
		d.log.Warn("scanner unavailable", "port", d.scanPath, "err", err, "retry_in", d.scanWait)
		return nil, err
	}
	d.scanWait = 0
	d.mu.Lock()
	d.scan = s
	d.mu.Unlock()
	d.log.Info("scanner open", "port", d.scanPath)
	return s, nil
}

func (d *devices) openThermometer() (*thermometer.GYMCU90614, error) {
	t, err := thermometer.OpenGYMCU90614(d.thermPath, thermometer.GYOptions{})
	if err != nil {
		d.log.Warn("thermometer unavailable", "port", d.thermPath, "err", err)
		d.setThermFailed(true)
		return nil, err
	}
	d.mu.Lock()
	d.therm = t
	d.mu.Unlock()
	d.log.Info("thermometer open", "port", d.thermPath)
	return t, nil
}

// nextScan waits for the next code, opening or reopening the scanner as
// needed. It returns an error only to let the caller show that the scanner
// is gone; it keeps trying until ctx is done.
func (d *devices) nextScan(ctx context.Context) (scanner.Scan, error) {
	d.mu.Lock()
	s := d.scan
	d.mu.Unlock()
	if s == nil {
		if d.scanWait > 0 {
			select {
			case <-ctx.Done():
				return scanner.Scan{}, ctx.Err()
			case <-time.After(d.scanWait):
			}
		}
		var err error
		if s, err = d.openScanner(); err != nil {
			return scanner.Scan{}, err
		}
	}
	scan, err := s.Next(ctx)
	if errors.Is(err, scanner.ErrTooLong) || errors.Is(err, scanner.ErrInvalidUTF8) {
		// A bad code, not a bad scanner: keep the driver.
		d.log.Warn("unreadable code ignored", "port", d.scanPath, "err", err)
		return scanner.Scan{}, errBadCode
	}
	if err != nil && ctx.Err() == nil {
		d.log.Warn("scanner lost; reopening", "port", d.scanPath, "err", err)
		d.mu.Lock()
		d.scan = nil
		d.mu.Unlock()
		s.Close()
		d.scanWait = reopenMin
	}
	return scan, err
}

// read takes one temperature reading, or returns nil when none could be
// had in time (the rules then ask for a re-measure).
func (d *devices) read(ctx context.Context, timeout time.Duration) *protocol.Reading {
	d.mu.Lock()
	t := d.therm
	d.mu.Unlock()
	if t == nil {
		var err error
		if t, err = d.openThermometer(); err != nil {
			return nil
		}
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r, err := t.Read(rctx)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("no reading; will reopen the thermometer", "port", d.thermPath, "err", err)
			d.mu.Lock()
			d.therm = nil
			d.mu.Unlock()
			t.Close()
			d.setThermFailed(true)
		}
		return nil
	}
	d.setThermFailed(false)
	var body *float64
	if r.HasBody {
		body = &r.Body
	}
	out := &protocol.Reading{ObjectC: r.Object, AmbientC: &r.Ambient, BodyC: body}
	if r.HasDistance {
		out.DistCM = &r.Distance
	}
	out.ScreenedC = round2(checkpoint.Screened(r.Object, body, 0))
	return out
}

func (d *devices) setThermFailed(v bool) {
	d.mu.Lock()
	d.thermFailed = v
	d.mu.Unlock()
}

// problem is a plain sentence about a device that needs a person, or "".
func (d *devices) problem() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.thermFailed {
		return msgThermometerGone
	}
	return ""
}

// Close closes the drivers and stops the simulators.
func (d *devices) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.scan != nil {
		d.scan.Close()
	}
	if d.therm != nil {
		d.therm.Close()
	}
	if d.simScan != nil {
		d.simScan.Close()
	}
	if d.simTherm != nil {
		d.simTherm.Close()
	}
}

// simulateTraffic makes the simulated scanner scan codes at random gaps
// around Scanner.SimulateEvery: residents' passes, now and then a visitor.
func (d *devices) simulateTraffic(ctx context.Context) {
	if d.simScan == nil {
		return
	}
	mean := d.cfg.Scanner.SimulateEvery.D()
	for n := 1; ; n++ {
		gap := mean/2 + rand.N(mean)
		select {
		case <-ctx.Done():
			return
		case <-time.After(gap):
		}
		code := fmt.Sprintf("DEMO-%s-%d-%02d%02d-%d", d.cfg.Kiosk, 1+rand.IntN(12), 1+rand.IntN(6), 1+rand.IntN(4), n)
		if err := d.simScan.Send(code); err != nil {
			d.log.Warn("simulated scanner", "err", err)
		}
	}
}

// plausibleForehead gives realistic screening readings: mostly 35.9-37.0,
// now and then a fever.
func plausibleForehead() float64 {
	if rand.IntN(20) == 0 {
		return 37.4 + rand.Float64()*1.4
	}
	return 35.9 + rand.Float64()*1.1
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
