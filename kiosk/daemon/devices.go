package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gatepost/gatepost/hardware/device"
	"github.com/gatepost/gatepost/hardware/scanner"
	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/hardware/thermometer"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/gate"
	"github.com/gatepost/gatepost/kiosk/journal"
)

// devices are the gate's thermometer and scanner, kept open by
// hardware/device. Simulated devices are the same drivers on
// pseudo-terminals with a simulator at the other end, and traffic that
// walks up to them.
type devices struct {
	log      *slog.Logger
	therm    *device.Thermometer
	scan     *device.Scanner
	simTherm *sim.Thermometer
	simScan  *sim.Scanner
	traffic  *gate.Traffic // what the simulated devices show (demo)
}

// ThermometerSettings turns the [thermometer] section into driver settings.
func ThermometerSettings(c config.Thermometer) (thermometer.Settings, error) {
	s := thermometer.Settings{
		Driver:  c.Driver,
		Line:    serialport.Config{Baud: c.Baud},
		Pattern: c.Pattern,
		Command: c.Command,
		Query: thermometer.QueryOptions{
			ReplyTimeout: c.ReplyTimeout.D(), Retries: c.Retries, PollInterval: c.PollInterval.D(),
		},
		Modbus: thermometer.ModbusOptions{
			Address: byte(c.Modbus.Address), Function: byte(c.Modbus.Function), Register: uint16(c.Modbus.Register),
			Value: thermometer.ModbusValue{
				Count: uint16(c.Modbus.Count), Signed: c.Modbus.Signed, Float: c.Modbus.Float,
				Scale: c.Modbus.Scale, WordSwap: c.Modbus.WordOrder == "little",
			},
			AmbientRegister: uint16(max(c.Modbus.AmbientRegister, 0)), HasAmbient: c.Modbus.AmbientRegister >= 0,
		},
	}
	if c.Driver == "frame" {
		p, err := frameProfile(c.Frame)
		if err != nil {
			return s, err
		}
		s.Profile = p
	}
	return s, s.Validate()
}

func frameProfile(f config.FrameTherm) (thermometer.FrameProfile, error) {
	header, err := hexBytes("thermometer.frame.header", f.Header)
	if err != nil {
		return thermometer.FrameProfile{}, err
	}
	query, err := hexBytes("thermometer.frame.query", f.Query)
	if err != nil {
		return thermometer.FrameProfile{}, err
	}
	field := func(ff config.FrameField) thermometer.Field {
		return thermometer.Field{Offset: ff.Offset, Size: ff.Size, LittleEndian: ff.LittleEndian, Unsigned: ff.Unsigned, Scale: ff.Scale}
	}
	optional := func(ff config.FrameField) *thermometer.Field {
		if ff.Offset == 0 {
			return nil
		}
		v := field(ff)
		return &v
	}
	name := f.Name
	if name == "" {
		name = "custom frame"
	}
	kind := f.Checksum
	if kind == "" {
		kind = "sum8"
	}
	return thermometer.FrameProfile{
		Name: name, Header: header, Length: f.Length, Query: query,
		Checksum: thermometer.Checksum{Kind: kind, From: f.SumFrom},
		Object:   field(f.Object), Ambient: optional(f.Ambient), Body: optional(f.Body), Distance: optional(f.Distance),
	}, nil
}

func hexBytes(key, s string) ([]byte, error) {
	var out []byte
	for _, w := range strings.Fields(strings.ReplaceAll(s, ",", " ")) {
		w = strings.TrimPrefix(strings.ToLower(w), "0x")
		var b byte
		if _, err := fmt.Sscanf(w, "%02x", &b); err != nil || len(w) != 2 {
			return nil, fmt.Errorf("%s = %q: write bytes in hex separated by spaces, e.g. \"66 66 02 56\"", key, s)
		}
		out = append(out, b)
	}
	return out, nil
}

// ScannerSettings turns the [scanner] section into driver settings.
func ScannerSettings(c config.Scanner) scanner.Settings {
	s := scanner.Settings{
		Driver: c.Driver, Baud: c.Baud, StripAIM: c.StripAIM, Trigger: c.Trigger,
		IdleGap: c.IdleGap.D(), DuplicateWindow: c.DuplicateWindow.D(),
	}
	if s.DuplicateWindow == 0 {
		s.DuplicateWindow = -1 // "0s" in the config turns it off
	}
	for _, r := range strings.Split(c.NoRead, "|") {
		if r = strings.TrimSpace(r); r != "" {
			s.NoRead = append(s.NoRead, r)
		}
	}
	return s
}

// ThermometerLimits returns the plausibility limits the config sets.
func ThermometerLimits(c config.Thermometer) thermometer.Limits {
	return thermometer.Limits{BodyMinC: c.BodyMinC, BodyMaxC: c.BodyMaxC, DistanceMinCM: c.DistanceMinCM, DistanceMaxCM: c.DistanceMaxCM}
}

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

// openDevices starts the simulators the configuration asks for, and
// opens both devices now, so nothing scanned after start-up is
// discarded; a device missing now is retried (the thermometer in the
// background, the scanner when next read). onChange is called after a
// device's state changed.
func openDevices(cfg config.Config, log *slog.Logger, clk clock.Clock, onChange func()) (*devices, error) {
	thermSettings, err := ThermometerSettings(cfg.Thermometer)
	if err != nil {
		return nil, fmt.Errorf("thermometer: %w", err)
	}
	scanSettings := ScannerSettings(cfg.Scanner)
	scanSettings.Now = clk.Now
	d := &devices{log: log, traffic: gate.NewTraffic(cfg.Kiosk, cfg.Scanner.SimulateEvery.D(), cfg.Rules.RecheckAfter.D(), clk)}
	thermPath, scanPath := cfg.Thermometer.Port, cfg.Scanner.Port
	if cfg.Thermometer.Simulate {
		proto := simProtocol(cfg.Thermometer.Driver)
		if proto == "" {
			return nil, fmt.Errorf("thermometer: driver %q cannot be simulated; set simulate = false", cfg.Thermometer.Driver)
		}
		m := cfg.Thermometer.Modbus
		t, err := sim.NewThermometer(sim.ThermometerOptions{
			Protocol: proto, Object: d.traffic.Forehead,
			ModbusAddress: byte(m.Address), ModbusObjectRegister: uint16(m.Register), ModbusAmbientRegister: uint16(max(m.AmbientRegister, m.Register+1)),
		})
		if err != nil {
			return nil, fmt.Errorf("start simulated thermometer: %w", err)
		}
		d.simTherm, thermPath = t, t.Path()
		log.Info("simulated thermometer", "port", thermPath, "protocol", proto)
	}
	if cfg.Scanner.Simulate {
		s, err := sim.NewScanner(sim.ScannerOptions{})
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("start simulated scanner: %w", err)
		}
		d.simScan, scanPath = s, s.Path()
		scanSettings.Driver = "serial" // the simulator is a serial scanner
		log.Info("simulated scanner", "port", scanPath)
	}
	opts := device.Options{Log: log, Clock: clk, OnChange: onChange}
	d.scan = device.OpenScanner(scanPath, scanSettings, opts)
	d.therm = device.OpenThermometer(thermPath, thermSettings, opts)
	return d, nil
}

// simulateTraffic makes the simulated scanner scan at random gaps around
// scanner.simulate_every, until ctx is done.
func (d *devices) simulateTraffic(ctx context.Context) {
	if d.simScan == nil {
		return
	}
	d.traffic.Run(ctx, func(code string) {
		if err := d.simScan.Send(code); err != nil {
			d.log.Warn("simulated scanner", "err", err)
		}
	})
}

// Close closes the drivers and stops the simulators.
func (d *devices) Close() {
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
