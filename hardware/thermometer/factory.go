package thermometer

import (
	"fmt"
	"io"
	"strings"

	"github.com/gatepost/gatepost/hardware/serialport"
)

// Settings choose and configure a driver, as a kiosk's configuration
// names it.
type Settings struct {
	// Driver is "gy-mcu90614", "cjmcu-90614", "a4-register" (built-in
	// frame profiles), "frame" (the profile in Profile), "modbus" or
	// "line".
	Driver  string
	Line    serialport.Config // line settings; Baud 0 means the driver's usual speed
	Profile FrameProfile      // for "frame"
	Modbus  ModbusOptions     // for "modbus" (its QueryOptions are ignored: see Query)
	Pattern string            // for "line": see LineDecoder
	Command string            // for "line": sent before each read, if set
	Query   QueryOptions      // timing for every driver
}

// Drivers returns the driver names Settings accepts.
func Drivers() []string {
	return append(ProfileNames(), "frame", "modbus", "line")
}

// profile returns the frame profile s uses, if its driver is frame-based.
func (s Settings) profile() (FrameProfile, bool, error) {
	if s.Driver == "frame" {
		return s.Profile, true, nil
	}
	if _, ok := Profiles()[s.Driver]; ok {
		p, err := LookupProfile(s.Driver)
		return p, true, err
	}
	return FrameProfile{}, false, nil
}

// Validate names the first bad setting.
func (s Settings) Validate() error {
	if err := s.Line.Validate(); err != nil {
		return err
	}
	if p, ok, err := s.profile(); ok {
		if err != nil {
			return err
		}
		return p.Validate()
	}
	switch s.Driver {
	case "modbus":
		return s.Modbus.Validate()
	case "line":
		_, err := NewLineDecoder(s.Pattern)
		return err
	}
	return fmt.Errorf("thermometer driver %q: must be one of %s", s.Driver, strings.Join(Drivers(), ", "))
}

// BaudFor returns the line speed s opens the port at.
func (s Settings) BaudFor() int {
	if s.Line.Baud != 0 {
		return s.Line.Baud
	}
	if p, ok, err := s.profile(); ok && err == nil && p.Baud != 0 {
		return p.Baud
	}
	return serialport.DefaultBaud
}

// New returns the driver s names for the module on port. The driver owns
// port; on error port is closed.
func New(port io.ReadWriteCloser, s Settings) (Thermometer, error) {
	if err := s.Validate(); err != nil {
		port.Close()
		return nil, fmt.Errorf("thermometer: %w", err)
	}
	var t Thermometer
	var err error
	switch p, framed, _ := s.profile(); {
	case framed:
		t, err = NewFramed(port, p, s.Query)
	case s.Driver == "modbus":
		o := s.Modbus
		o.QueryOptions = s.Query
		t, err = NewModbus(port, o)
	case s.Driver == "line":
		t, err = NewLine(port, LineOptions{Pattern: s.Pattern, Query: s.Command, QueryOptions: s.Query})
	}
	if err != nil {
		port.Close()
		return nil, err
	}
	return t, nil
}

// Open opens the serial port at path and returns the driver s names for
// the module on it.
func Open(path string, s Settings) (Thermometer, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("thermometer: %w", err)
	}
	line := s.Line
	line.Baud = s.BaudFor()
	p, err := serialport.Open(path, line)
	if err != nil {
		return nil, fmt.Errorf("thermometer: %w", err)
	}
	return New(p, s)
}

// StatsOf returns t's counters if its driver keeps them.
func StatsOf(t Thermometer) (Stats, bool) {
	s, ok := t.(interface{ Stats() Stats })
	if !ok {
		return Stats{}, false
	}
	return s.Stats(), true
}
