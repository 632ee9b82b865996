package protocol

import (
	"errors"
	"fmt"
)

// ErrInvalid is wrapped by every decoding and validation error, so callers
// can tell a bad message from a transport failure with errors.Is.
var ErrInvalid = errors.New("invalid message")

// FieldError says which field of a message is wrong and why.
type FieldError struct {
	Field   string // JSON path, e.g. "entries[3].temperature.object_c"
	Problem string // e.g. "missing", "must be between -50 and 150, got 400"
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %s", e.Field, e.Problem)
}

// Unwrap lets errors.Is(err, ErrInvalid) hold for every FieldError.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func missing(field string) error { return &FieldError{Field: field, Problem: "missing"} }

func bad(field, format string, args ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// prefixed returns err with its field placed under prefix, so a problem
// inside entries[3] reads "entries[3].seq: missing".
func prefixed(prefix string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{Field: prefix + "." + fe.Field, Problem: fe.Problem}
	}
	return fmt.Errorf("%s: %w", prefix, err)
}
