package daemon

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gatepost/gatepost/hardware/device"
	"github.com/gatepost/gatepost/hardware/sim"
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
	thermSettings, err := cfg.Thermometer.Settings()
	if err == nil {
		err = thermSettings.Validate() // its errors start "thermometer: "
	}
	if err != nil {
		return nil, err
	}
	scanSettings := cfg.Scanner.Settings()
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
