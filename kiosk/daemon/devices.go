package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/gatepost/gatepost/hardware/scanner"
	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/hardware/thermometer"
	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/protocol"
)

// Reopening a device that went away: first after reopenMin, doubling to
// reopenMax, so an unplugged cable is retried without flooding the log.
const (
	reopenMin = 200 * time.Millisecond
	reopenMax = 5 * time.Second
)

// Device states shown on the screen and by `kiosk status`.
const (
	StateConnected    = "connected"
	StateDisconnected = "disconnected"
	StateError        = "error"
)

// devices holds the thermometer and scanner, opening them on first use
// and again after they go away. Simulated devices are real drivers on
// pseudo-terminals with a simulator at the other end.
type devices struct {
	cfg     config.Config
	log     *slog.Logger
	therm   thermometer.Settings
	limits  thermometer.Limits
	offset  float64
	onState func([]screen.Device) // called with every change of device state

	thermPath, scanPath string
	simTherm            *sim.Thermometer
	simScan             *sim.Scanner

	openMu sync.Mutex // one thermometer open at a time

	mu       sync.Mutex // guards what follows
	thermDev thermometer.Thermometer
	scan     scanner.Scanner
	states   [2]screen.Device // thermometer, scanner
	scanWait time.Duration
	why      string // why the last reading was refused, as a reason code

	wake    chan struct{} // the thermometer was lost: reopen it
	stop    context.CancelFunc
	stopWG  sync.WaitGroup
	traffic *traffic // what the simulated devices show (demo)
}

// errBadCode is a code the scanner read but that cannot be a pass.
var errBadCode = errors.New("unreadable code")

const msgThermometerGone = "测温仪无读数，请检查连线。 Thermometer not answering: check its cable."

// ThermometerSettings turns the [thermometer] section into driver
// settings, validated.
func ThermometerSettings(c config.Thermometer) (thermometer.Settings, error) {
	s, err := c.Settings()
	if err != nil {
		return s, err
	}
	return s, s.Validate()
}

// ScannerSettings turns the [scanner] section into driver settings.
func ScannerSettings(c config.Scanner) scanner.Settings { return c.Settings() }

// ThermometerLimits returns the plausibility limits the config sets.
func ThermometerLimits(c config.Thermometer) thermometer.Limits { return c.Limits() }

// simProtocol is the simulator protocol for a driver, or "" if a driver
// cannot be simulated.
func simProtocol(driver string) string {
	switch driver {
	case "gy-mcu90614":
		return sim.GYMCU90614
	case "cjmcu-90614":
		return sim.CJMCU90614
	case "a4-register":
		return sim.A4Register
	case "modbus":
		return sim.ModbusRTU
	case "line":
		return sim.LineASCII
	}
	return ""
}

func openDevices(cfg config.Config, log *slog.Logger, offsetC float64, onState func([]screen.Device)) (*devices, error) {
	settings, err := ThermometerSettings(cfg.Thermometer)
	if err != nil {
		return nil, fmt.Errorf("thermometer: %w", err)
	}
	if onState == nil {
		onState = func([]screen.Device) {}
	}
	d := &devices{
		cfg: cfg, log: log, therm: settings, limits: ThermometerLimits(cfg.Thermometer), offset: offsetC, onState: onState,
		traffic:   new(traffic),
		thermPath: cfg.Thermometer.Port, scanPath: cfg.Scanner.Port, wake: make(chan struct{}, 1),
	}
	d.states[0] = screen.Device{Name: "thermometer", State: StateDisconnected, Port: d.thermPath}
	d.states[1] = screen.Device{Name: "scanner", State: StateDisconnected, Port: d.scanPath}
	if cfg.Thermometer.Simulate {
		proto := simProtocol(cfg.Thermometer.Driver)
		if proto == "" {
			return nil, fmt.Errorf("thermometer: driver %q cannot be simulated; set simulate = false", cfg.Thermometer.Driver)
		}
		m := cfg.Thermometer.Modbus
		t, err := sim.NewThermometer(sim.ThermometerOptions{
			Protocol: proto, Object: d.traffic.forehead,
			ModbusAddress: byte(m.Address), ModbusObjectRegister: uint16(m.Register), ModbusAmbientRegister: uint16(max(m.AmbientRegister, m.Register+1)),
		})
		if err != nil {
			return nil, fmt.Errorf("start simulated thermometer: %w", err)
		}
		d.simTherm, d.thermPath = t, t.Path()
		d.states[0].Port = d.thermPath
		log.Info("simulated thermometer", "port", d.thermPath, "protocol", proto)
	}
	if cfg.Scanner.Simulate {
		s, err := sim.NewScanner(sim.ScannerOptions{})
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("start simulated scanner: %w", err)
		}
		d.simScan, d.scanPath = s, s.Path()
		d.states[1].Port = d.scanPath
		log.Info("simulated scanner", "port", d.scanPath)
	}
	// Open both now, so nothing scanned after start-up is discarded; a
	// device missing now is retried in the background (thermometer) or
	// when next needed (scanner).
	d.openScanner()
	d.openThermometer()
	ctx, cancel := context.WithCancel(context.Background())
	d.stop = cancel
	d.stopWG.Go(func() { d.keepThermometer(ctx) })
	return d, nil
}

// setState records a device's state and reports it if it changed.
func (d *devices) setState(i int, state, detail string) {
	d.mu.Lock()
	changed := d.states[i].State != state || d.states[i].Detail != detail
	d.states[i].State, d.states[i].Detail = state, detail
	snapshot := append([]screen.Device(nil), d.states[:]...)
	d.mu.Unlock()
	if changed {
		d.onState(snapshot)
	}
}

// Devices returns the devices' states.
func (d *devices) Devices() []screen.Device {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]screen.Device(nil), d.states[:]...)
}

// stateOf classifies an open or read error: a device that is not there
// is disconnected, anything else (permissions, checksum, no reply) is an
// error a person must look at.
func stateOf(err error) string {
	if errors.Is(err, serialport.ErrNotFound) || errors.Is(err, serialport.ErrGone) {
		return StateDisconnected
	}
	return StateError
}

// openScanner opens the scanner's port. Opening discards what the port
// had buffered, so the daemon opens its devices before it says it is ready.
func (d *devices) openScanner() (scanner.Scanner, error) {
	settings := ScannerSettings(d.cfg.Scanner)
	if d.simScan != nil {
		settings.Driver = "serial" // the simulator is a serial scanner
	}
	path := d.scanPath
	var err error
	if settings.Driver == "serial" {
		path, err = serialport.Resolve(d.scanPath)
	}
	var s scanner.Scanner
	if err == nil {
		s, err = scanner.Open(path, settings)
	}
	if err != nil {
		d.scanWait = min(max(2*d.scanWait, reopenMin), reopenMax)
		d.log.Warn("scanner unavailable", "port", d.scanPath, "err", err, "retry_in", d.scanWait)
		d.setState(1, stateOf(err), err.Error())
		return nil, err
	}
	d.scanWait = 0
	d.mu.Lock()
	d.scan = s
	d.mu.Unlock()
	d.setState(1, StateConnected, "")
	d.log.Info("scanner open", "port", path)
	return s, nil
}

func (d *devices) openThermometer() (thermometer.Thermometer, error) {
	d.openMu.Lock()
	defer d.openMu.Unlock()
	d.mu.Lock()
	t := d.thermDev
	d.mu.Unlock()
	if t != nil {
		return t, nil // opened meanwhile
	}
	path, err := serialport.Resolve(d.thermPath)
	if err == nil {
		t, err = thermometer.Open(path, d.therm)
	}
	if err != nil {
		d.log.Warn("thermometer unavailable", "port", d.thermPath, "err", err)
		d.setState(0, stateOf(err), err.Error())
		return nil, err
	}
	d.mu.Lock()
	d.thermDev = t
	d.mu.Unlock()
	d.setState(0, StateConnected, "")
	d.log.Info("thermometer open", "port", path, "driver", d.therm.Driver)
	return t, nil
}

// keepThermometer reopens the thermometer whenever it is lost, with
// backoff, so the screen shows it back as soon as it is plugged in again
// rather than at the next scan.
func (d *devices) keepThermometer(ctx context.Context) {
	wait := time.Duration(0)
	for {
		d.mu.Lock()
		open := d.thermDev != nil
		d.mu.Unlock()
		if open {
			wait = 0
			select {
			case <-ctx.Done():
				return
			case <-d.wake:
			}
			continue
		}
		wait = min(max(2*wait, reopenMin), reopenMax)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		d.openThermometer()
	}
}

// lostThermometer closes a thermometer that failed and has it reopened.
func (d *devices) lostThermometer(t thermometer.Thermometer, err error) {
	d.mu.Lock()
	if d.thermDev == t {
		d.thermDev = nil
	}
	d.mu.Unlock()
	t.Close()
	d.setState(0, stateOf(err), err.Error())
	select {
	case d.wake <- struct{}{}:
	default:
	}
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
			t := time.NewTimer(d.scanWait)
			select {
			case <-ctx.Done():
				t.Stop()
				return scanner.Scan{}, ctx.Err()
			case <-t.C:
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
		d.setState(1, stateOf(err), err.Error())
		d.scanWait = reopenMin
	}
	return scan, err
}

// read takes one temperature reading, or returns nil when none could be
// had in time or the reading is not plausibly a person's temperature (the
// rules then ask for a re-measure; remeasureReasons says why).
func (d *devices) read(ctx context.Context, timeout time.Duration) *protocol.Reading {
	d.setWhy("")
	d.mu.Lock()
	t := d.thermDev
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
			d.lostThermometer(t, err)
		}
		return nil
	}
	d.setState(0, StateConnected, "")
	if err := d.limits.Check(r, d.offset); err != nil {
		var re *thermometer.RemeasureError
		if errors.As(err, &re) {
			d.setWhy(re.Reason)
		}
		d.log.Info("reading refused", "object", r.Object, "body", r.Body, "distance", r.Distance, "offset", d.offset, "why", err)
		return nil
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
	out.OffsetC = d.offset
	out.ScreenedC = round2(checkpoint.Screened(r.Object, body, d.offset))
	return out
}

func (d *devices) setWhy(why string) {
	d.mu.Lock()
	d.why = why
	d.mu.Unlock()
}

// remeasureReasons adds to reasons why the last reading was refused, if
// it was: below_range, above_range, too_close, too_far.
func (d *devices) remeasureReasons(reasons []string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.why == "" {
		return reasons
	}
	return append(reasons, d.why)
}

// problem is a plain sentence about a device that needs a person, or "".
func (d *devices) problem() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.states[0].State != StateConnected {
		return msgThermometerGone
	}
	return ""
}

// Close stops reopening, closes the drivers and stops the simulators.
func (d *devices) Close() {
	if d.stop != nil {
		d.stop()
		d.stopWG.Wait()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.scan != nil {
		d.scan.Close()
	}
	if d.thermDev != nil {
		d.thermDev.Close()
	}
	if d.simScan != nil {
		d.simScan.Close()
	}
	if d.simTherm != nil {
		d.simTherm.Close()
	}
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
