// Package device keeps a gate's devices usable while cables come and go:
// it opens the thermometer and the scanner, notices when one is lost,
// reopens it with back-off (200 ms doubling to 5 s) and tells the state a
// person should see: connected, disconnected or error, with the driver's
// detail for installers.
//
// The kiosk's daemon opens the devices with it and its gate application
// reads from them. Like all of hardware/ it imports nothing of gatepost's
// beyond internal/clock and internal/backoff.
package device

import (
	"errors"
	"log/slog"
	"time"

	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/gatepost/gatepost/internal/backoff"
	"github.com/gatepost/gatepost/internal/clock"
)

// Device states shown on the guard's screen and by `kiosk status`.
const (
	StateConnected    = "connected"
	StateDisconnected = "disconnected"
	StateError        = "error"
)

// Device names, as Status.Name gives them.
const (
	NameThermometer = "thermometer"
	NameScanner     = "scanner"
)

// Reopening a device that went away: first after about ReopenMin,
// doubling to ReopenMax, so an unplugged cable is retried without
// flooding the log.
const (
	ReopenMin = 200 * time.Millisecond
	ReopenMax = 5 * time.Second
)

// Status is one device's state. Detail is the driver's reason, for
// installers; a guard is shown a plain sentence instead.
type Status struct {
	Name   string // NameThermometer, NameScanner
	State  string // StateConnected, StateDisconnected, StateError
	Detail string
	Port   string
}

// Options are what both keepers take besides their device's settings.
type Options struct {
	Log   *slog.Logger // nil: discard
	Clock clock.Clock  // nil: the wall clock
	// OnChange is called, outside any lock, after the device's state
	// changed; read Status then.
	OnChange func()
}

func (o Options) orDefaults() Options {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.Clock = clock.Or(o.Clock)
	if o.OnChange == nil {
		o.OnChange = func() {}
	}
	return o
}

func (o Options) backoff() *backoff.Backoff {
	return &backoff.Backoff{Min: ReopenMin, Max: ReopenMax, Clock: o.Clock}
}

// StateOf classifies an open or read error: a device that is not there
// is disconnected, anything else (permissions, checksum, no reply) is an
// error a person must look at.
func StateOf(err error) string {
	if errors.Is(err, serialport.ErrNotFound) || errors.Is(err, serialport.ErrGone) {
		return StateDisconnected
	}
	return StateError
}

// status is a Status guarded by its keeper's mutex.
type status struct{ Status }

// set records a state and reports whether it changed.
func (s *status) set(state, detail string) bool {
	changed := s.State != state || s.Detail != detail
	s.State, s.Detail = state, detail
	return changed
}
