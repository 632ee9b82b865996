package scanner

import (
	"context"
	"errors"
	"time"
)

// Scan is one code read by a scanner.
type Scan struct {
	Text string    // the code as the scanner sent it, without the terminator
	At   time.Time // when the code's terminator arrived
}

// Scanner is a code scanner a kiosk waits on.
type Scanner interface {
	// Next waits for the next code, at most until ctx is done.
	Next(ctx context.Context) (Scan, error)
	Close() error
}

// Stats counts what a driver has received, for diagnostics screens.
type Stats struct {
	Codes       uint64 // codes delivered
	TooLong     uint64 // lines discarded for exceeding the length limit
	InvalidUTF8 uint64 // lines discarded for not being UTF-8
	NoRead      uint64 // "no read" replies ignored
	Duplicates  uint64 // repeats of a code within the duplicate window, dropped
}

// Errors for codes that were received but cannot be used. A driver
// returns them from Next and keeps working: call Next again.
var (
	ErrTooLong     = errors.New("scanned code too long")
	ErrInvalidUTF8 = errors.New("scanned code is not valid UTF-8")
)
