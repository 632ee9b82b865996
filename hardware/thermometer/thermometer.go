package thermometer

import (
	"context"
	"errors"
	"time"
)

// Reading is what a thermometer module reports, each value separately:
// modules compensate only within their distance window, so the gate sees
// raw, compensated and distance values and decides for itself.
type Reading struct {
	Object      float64 // °C, raw object (target) temperature
	Ambient     float64 // °C, ambient / sensor die temperature; valid only if HasAmbient
	HasAmbient  bool
	Body        float64 // °C, module-compensated body temperature; valid only if HasBody
	HasBody     bool
	Distance    float64 // cm; valid only if HasDistance
	HasDistance bool
	At          time.Time // when the reading was received
}

// Thermometer is a thermometer module a kiosk reads on demand.
type Thermometer interface {
	// Read asks the module for a reading and waits for it, at most until
	// ctx is done.
	Read(ctx context.Context) (Reading, error)
	Close() error
}

// Stats counts what a driver has received, for diagnostics screens.
type Stats struct {
	Frames      uint64 // valid frames
	BadChecksum uint64 // frames rejected for a wrong checksum
	Garbage     uint64 // bytes skipped while looking for a frame header
}

// Errors callers branch on.
var (
	// ErrChecksum means frames arrived but failed their checksum: noise
	// on the line, a loose contact or a wrong baud rate.
	ErrChecksum = errors.New("thermometer frames failed their checksum")
	// ErrNoReply means no valid frame arrived in time.
	ErrNoReply = errors.New("thermometer did not answer")
)
