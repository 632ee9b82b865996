package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hardware"
	"github.com/gatepost/gatepost/hardware/scanner"
	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/gatepost/gatepost/hardware/thermometer"
)

// The [thermometer] and [scanner] sections become the drivers' settings
// here, and the drivers' own Validate methods judge them: config adds
// only the section to the setting a driver names, and the few rules that
// belong to the file rather than to a driver (below, in validateDevices).

// Settings turns the [thermometer] section into driver settings. Only
// [thermometer.frame]'s hex strings can fail here; the settings are not
// validated (Config.Validate does that).
func (t Thermometer) Settings() (thermometer.Settings, error) {
	s := thermometer.Settings{
		Driver:  t.Driver,
		Line:    serialport.Config{Baud: t.Baud},
		Pattern: t.Pattern,
		Command: t.Command,
		Query: thermometer.QueryOptions{
			ReplyTimeout: t.ReplyTimeout.D(), Retries: t.Retries, PollInterval: t.PollInterval.D(),
		},
		Modbus: thermometer.ModbusOptions{
			Address: narrowByte(t.Modbus.Address), Function: narrowByte(t.Modbus.Function), Register: uint16(t.Modbus.Register),
			Value: thermometer.ModbusValue{
				Count: narrowUint16(t.Modbus.Count), Signed: t.Modbus.Signed, Float: t.Modbus.Float,
				Scale: t.Modbus.Scale, WordSwap: t.Modbus.WordOrder == "little",
			},
			AmbientRegister: uint16(max(t.Modbus.AmbientRegister, 0)), HasAmbient: t.Modbus.AmbientRegister >= 0,
		},
	}
	if t.Driver == "frame" {
		p, err := t.Frame.profile()
		if err != nil {
			return s, err
		}
		s.Profile = p
	}
	return s, nil
}

// narrowByte and narrowUint16 pass a value that does not fit the driver's
// type as the largest one, which the driver refuses for every setting
// they carry (address, function, count); validateDevices then shows the
// value the file holds.
func narrowByte(v int) byte {
	if v < 0 || v > 0xFF {
		return 0xFF
	}
	return byte(v)
}

func narrowUint16(v int) uint16 {
	if v < 0 || v > 0xFFFF {
		return 0xFFFF
	}
	return uint16(v)
}

func (f FrameTherm) profile() (thermometer.FrameProfile, error) {
	header, err := hexBytes("thermometer.frame.header", f.Header)
	if err != nil {
		return thermometer.FrameProfile{}, err
	}
	query, err := hexBytes("thermometer.frame.query", f.Query)
	if err != nil {
		return thermometer.FrameProfile{}, err
	}
	field := func(ff FrameField) thermometer.Field {
		return thermometer.Field{Offset: ff.Offset, Size: ff.Size, LittleEndian: ff.LittleEndian, Unsigned: ff.Unsigned, Scale: ff.Scale}
	}
	optional := func(ff FrameField) *thermometer.Field {
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

// Limits returns the plausibility limits the [thermometer] section sets.
func (t Thermometer) Limits() thermometer.Limits {
	return thermometer.Limits{BodyMinC: t.BodyMinC, BodyMaxC: t.BodyMaxC, DistanceMinCM: t.DistanceMinCM, DistanceMaxCM: t.DistanceMaxCM}
}

// Settings turns the [scanner] section into driver settings.
func (s Scanner) Settings() scanner.Settings {
	out := scanner.Settings{
		Driver: s.Driver, Baud: s.Baud, StripAIM: s.StripAIM, Trigger: s.Trigger,
		IdleGap: s.IdleGap.D(), DuplicateWindow: s.DuplicateWindow.D(),
	}
	if out.DuplicateWindow == 0 {
		out.DuplicateWindow = -1 // "0s" in the config turns it off
	}
	for _, r := range strings.Split(s.NoRead, "|") {
		if r = strings.TrimSpace(r); r != "" {
			out.NoRead = append(out.NoRead, r)
		}
	}
	return out
}

// validateDevices checks the [thermometer] and [scanner] sections: the
// file's own rules first, then the drivers' Validate, whose
// *hardware.SettingError gets the section added to its setting.
func (c Config) validateDevices() error {
	t, sc := c.Thermometer, c.Scanner
	modbus := t.Driver == "modbus"
	// The file's own rules. The drivers take 0 for "the usual value";
	// here every one of these has a default already, so a 0 written out
	// is a mistake, not a wish for the default. Registers are checked
	// for fitting 16 bits, and word_order is the file's word for a flag.
	switch {
	case t.ReplyTimeout.D() == 0:
		return bad("thermometer.reply_timeout", t.ReplyTimeout, `must be positive, e.g. "1s"`)
	case t.BodyMinC == 0 || t.BodyMaxC == 0:
		return bad("thermometer.body_min_c/body_max_c", fmt.Sprintf("%v-%v", t.BodyMinC, t.BodyMaxC), "must be a range within 20-50 °C, e.g. 34.0-43.0")
	case modbus && t.Modbus.Address == 0:
		return bad("thermometer.modbus.address", 0, "must be 1 to 247")
	case modbus && t.Modbus.Function == 0:
		return bad("thermometer.modbus.function", 0, "must be 3 (holding registers) or 4 (input registers)")
	case modbus && (t.Modbus.Register < 0 || t.Modbus.Register > 0xFFFF):
		return bad("thermometer.modbus.register", t.Modbus.Register, "must be 0 to 65535")
	case modbus && t.Modbus.Count == 0:
		return bad("thermometer.modbus.count", 0, "must be 1 (16-bit) or 2 (32-bit)")
	case modbus && t.Modbus.Scale == 0:
		return bad("thermometer.modbus.scale", 0, "must be positive, e.g. 0.01 or 0.1")
	case modbus && !oneOf(t.Modbus.WordOrder, "big", "little"):
		return bad("thermometer.modbus.word_order", fmt.Sprintf("%q", t.Modbus.WordOrder), `must be "big" (ABCD) or "little" (CDAB)`)
	case modbus && (t.Modbus.AmbientRegister < -1 || t.Modbus.AmbientRegister > 0xFFFF):
		return bad("thermometer.modbus.ambient_register", t.Modbus.AmbientRegister, "must be -1 (none) or 0 to 65535")
	case sc.Baud == 0:
		return bad("scanner.baud", 0, "must be a serial speed such as 9600 or 115200")
	case sc.DuplicateWindow.D() < 0:
		// Not the driver's rule: to the driver a negative window means off.
		return bad("scanner.duplicate_window", sc.DuplicateWindow, `must not be negative ("0s" turns it off)`)
	}
	ts, err := t.Settings()
	if err != nil {
		return err
	}
	// What the file holds, where the driver saw a narrowed value.
	asWritten := map[string]any{
		"modbus.address": t.Modbus.Address, "modbus.function": t.Modbus.Function, "modbus.count": t.Modbus.Count,
	}
	if err := inSection("thermometer", ts.Validate(), asWritten); err != nil {
		return err
	}
	if err := inSection("thermometer", t.Limits().Validate(), nil); err != nil {
		return err
	}
	switch {
	case !t.Simulate && t.Port == "":
		return bad("thermometer.port", `""`, "must name the serial device, e.g. /dev/ttyUSB0, or set simulate = true")
	case t.Timeout.D() <= 0:
		return bad("thermometer.timeout", t.Timeout, "must be positive, e.g. \"2s\"")
	}
	if err := inSection("scanner", sc.Settings().Validate(), nil); err != nil {
		return err
	}
	switch {
	case !sc.Simulate && sc.Port == "":
		return bad("scanner.port", `""`, "must name the serial device, e.g. /dev/ttyACM0, or set simulate = true")
	case sc.Simulate && sc.SimulateEvery.D() < 10*time.Millisecond:
		return bad("scanner.simulate_every", sc.SimulateEvery, "must be at least 10ms")
	}
	return nil
}

// inSection names the setting a driver's error names as this file's
// field: "baud" in [thermometer] is thermometer.baud. asWritten replaces
// the value the driver saw by the file's, by setting. An error naming no
// setting is returned as it is (the drivers' errors name their device).
func inSection(section string, err error, asWritten map[string]any) error {
	var se *hardware.SettingError
	if !errors.As(err, &se) {
		return err
	}
	v := se.Value
	if w, ok := asWritten[se.Setting]; ok {
		v = w
	}
	return &hardware.SettingError{Setting: section + "." + se.Setting, Value: v, Want: se.Want}
}

// bad is the error for a field of the file: its key, its value and what
// it must be.
func bad(field string, v any, want string) error {
	return fmt.Errorf("%s = %v: %s", field, v, want)
}
