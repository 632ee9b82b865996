package serialport

import (
	"fmt"
	"time"

	"github.com/gatepost/gatepost/hardware"
)

// Config holds a port's line settings. The zero value is 9600 8N1 with a
// 100 ms read timeout, which suits most of our devices.
type Config struct {
	Baud        int           // bits per second; 0 means 9600
	DataBits    int           // 5 to 8; 0 means 8
	Parity      Parity        // zero value is no parity
	StopBits    int           // 1 or 2; 0 means 1
	ReadTimeout time.Duration // how long Read waits before returning (0, nil); 0 means 100 ms
}

// Parity is a serial line's parity setting.
type Parity int

// Parity settings. The zero value is ParityNone.
const (
	ParityNone Parity = iota
	ParityOdd
	ParityEven
)

// Defaults filled in by Config.WithDefaults.
const (
	DefaultBaud        = 9600
	DefaultReadTimeout = 100 * time.Millisecond
)

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.Baud == 0 {
		c.Baud = DefaultBaud
	}
	if c.DataBits == 0 {
		c.DataBits = 8
	}
	if c.StopBits == 0 {
		c.StopBits = 1
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	return c
}

// Lowest and highest line speeds Validate accepts: the range of the
// modules and USB adapters a gate uses.
const (
	MinBaud = 1200
	MaxBaud = 921600
)

// Validate reports the first field of c that holds a value we cannot use,
// as a *hardware.SettingError. Zero fields are valid: they stand for the
// defaults (so the message for a bad baud rate does not offer 0, which a
// configuration may refuse).
func (c Config) Validate() error {
	bad := func(setting string, v any, want string) error {
		return &hardware.SettingError{Setting: setting, Value: v, Want: want}
	}
	switch {
	case c.Baud != 0 && (c.Baud < MinBaud || c.Baud > MaxBaud):
		return bad("baud", c.Baud, fmt.Sprintf("must be a serial speed from %d to %d, such as 9600 or 115200", MinBaud, MaxBaud))
	case c.DataBits != 0 && (c.DataBits < 5 || c.DataBits > 8):
		return bad("data_bits", c.DataBits, "must be 5, 6, 7 or 8")
	case c.Parity < ParityNone || c.Parity > ParityEven:
		return bad("parity", int(c.Parity), "must be ParityNone, ParityOdd or ParityEven")
	case c.StopBits != 0 && c.StopBits != 1 && c.StopBits != 2:
		return bad("stop_bits", c.StopBits, "must be 1 or 2")
	case c.ReadTimeout < 0:
		return bad("read_timeout", c.ReadTimeout, "must not be negative (drivers need a timeout to notice cancellation)")
	}
	return nil
}
