package thermometer

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gatepost/gatepost/hardware"
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

const linePatternWant = `must be a regular expression with named groups, e.g. "T=(?P<object>[0-9.]+)"`

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

// Validate names the first bad setting: a *hardware.SettingError, its
// setting spelled as kiosk.toml's [thermometer] section spells it,
// wrapped in "thermometer: ".
func (s Settings) Validate() error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("thermometer: %w", err)
	}
	return nil
}

func (s Settings) validate() error {
	if !slices.Contains(Drivers(), s.Driver) {
		return &hardware.SettingError{Setting: "driver", Value: s.Driver, Want: "must be one of " + strings.Join(Drivers(), ", ")}
	}
	if err := s.Line.Validate(); err != nil {
		return err
	}
	if err := s.Query.Validate(); err != nil {
		return err
	}
	p, framed, err := s.profile()
	switch {
	case err != nil:
		return err
	case s.Driver == "frame":
		return hardware.Under("frame", p.Validate())
	case framed:
		return p.Validate()
	case s.Driver == "modbus":
		return hardware.Under("modbus", s.Modbus.Validate())
	default: // line
		_, err := NewLineDecoder(s.Pattern)
		switch {
		case s.Pattern == "":
			return &hardware.SettingError{Setting: "pattern", Value: s.Pattern, Want: linePatternWant}
		case err != nil:
			return &hardware.SettingError{Setting: "pattern", Value: s.Pattern, Want: fmt.Sprintf("%s (%v)", linePatternWant, err)}
		}
		return nil
	}
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
		return nil, err
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
		return nil, err
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
