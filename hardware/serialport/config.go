package serialport

import (
	"fmt"
	"time"
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

// Validate reports the first field of c that holds a value we cannot use.
// Zero fields are valid: they stand for the defaults.
func (c Config) Validate() error {
	switch {
	case c.Baud < 0:
		return fmt.Errorf("serial config: Baud %d: must be positive", c.Baud)
	case c.DataBits != 0 && (c.DataBits < 5 || c.DataBits > 8):
		return fmt.Errorf("serial config: DataBits %d: must be 5, 6, 7 or 8", c.DataBits)
	case c.Parity < ParityNone || c.Parity > ParityEven:
		return fmt.Errorf("serial config: Parity %d: must be ParityNone, ParityOdd or ParityEven", c.Parity)
	case c.StopBits != 0 && c.StopBits != 1 && c.StopBits != 2:
		return fmt.Errorf("serial config: StopBits %d: must be 1 or 2", c.StopBits)
	case c.ReadTimeout < 0:
		return fmt.Errorf("serial config: ReadTimeout %v: must not be negative (drivers need a timeout to notice cancellation)", c.ReadTimeout)
	}
	return nil
}
