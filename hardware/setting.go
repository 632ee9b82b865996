package hardware

import (
	"errors"
	"fmt"
)

// SettingError is a device setting that cannot work: which setting, the
// value it holds, and what it must be. The drivers' Validate methods
// return it, wrapped at most in the device's name ("scanner: ..."), so
// that a program's configuration can name its own field by adding its
// section: errors.As finds the *SettingError, and "thermometer." +
// Error() reads "thermometer.baud = 300: must be ...".
type SettingError struct {
	// Setting is the setting's key in lower_snake_case, dotted below a
	// group: "baud", "modbus.address", "frame.object.size".
	Setting string
	Value   any    // the bad value; a string is shown quoted
	Want    string // what it must be: "must be 1 to 247"
}

func (e *SettingError) Error() string {
	v := e.Value
	if s, ok := v.(string); ok {
		v = fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%s = %v: %s", e.Setting, v, e.Want)
}

// Under returns the *SettingError in err with its setting moved into
// group, dropping any context around it: ("modbus") turns "address" into
// "modbus.address". An err holding no *SettingError, nil included, is
// returned as it is.
func Under(group string, err error) error {
	var e *SettingError
	if !errors.As(err, &e) {
		return err
	}
	return &SettingError{Setting: group + "." + e.Setting, Value: e.Value, Want: e.Want}
}
