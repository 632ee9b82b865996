package serialport

import (
	"errors"
	"fmt"
	"syscall"

	"go.bug.st/serial"
)

// Errors callers branch on. Every error from this package names the port
// and wraps one of these (and, where there is one, the library's error).
var (
	ErrNotFound   = errors.New("port not found")
	ErrBusy       = errors.New("port busy: another program has it open")
	ErrPermission = errors.New("permission denied: the user needs to be in the group that owns the port (often dialout)")
	ErrNotSerial  = errors.New("not a serial port")
	// ErrClosed means this process closed the port; nothing is wrong with
	// the device.
	ErrClosed = errors.New("port closed")
	// ErrGone means the device went away under us: unplugged, switched
	// off, or (for a simulator) its pseudo-terminal closed. Close the Port
	// and open the path again to recover.
	ErrGone = errors.New("device gone: unplugged, switched off or its driver stopped")
)

// openError turns an error from serial.Open into one wrapping our sentinel.
func openError(path string, err error) error {
	var kind error
	switch code, ok := portErrorCode(err); {
	case ok && code == serial.PortNotFound,
		errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENXIO), errors.Is(err, syscall.ENODEV):
		kind = ErrNotFound
	case ok && code == serial.PortBusy, errors.Is(err, syscall.EBUSY):
		kind = ErrBusy
	case ok && code == serial.PermissionDenied, errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		kind = ErrPermission
	case ok && code == serial.InvalidSerialPort:
		// The library's text says which step failed; keep it.
		return fmt.Errorf("open serial port %s: %w: %w", path, ErrNotSerial, err)
	default:
		return fmt.Errorf("open serial port %s: %w", path, err)
	}
	// The sentinel says all the library would; wrap both so errors.As
	// still finds a serial.PortError.
	return &wrapped{text: "open serial port " + path + ": " + kind.Error(), errs: []error{kind, err}}
}

// ioError turns an error from a read or write into one wrapping ErrGone:
// per the field notes, any I/O error on a port we did not close means the
// device went away, whatever the code (PortClosed on unplug, EIO or a
// hang-up on a pseudo-terminal).
func ioError(op, path string, err error) error {
	if code, ok := portErrorCode(err); ok && code == serial.PortClosed {
		// The library's text "Port has been closed" would mislead: we
		// did not close it.
		return &wrapped{text: op + " serial port " + path + ": " + ErrGone.Error(), errs: []error{ErrGone, err}}
	}
	return fmt.Errorf("%s serial port %s: %w: %w", op, path, ErrGone, err)
}

func portErrorCode(err error) (serial.PortErrorCode, bool) {
	var p *serial.PortError
	if errors.As(err, &p) {
		return p.Code(), true
	}
	var v serial.PortError
	if errors.As(err, &v) {
		return v.Code(), true
	}
	return 0, false
}

// wrapped is an error whose text we choose and which unwraps to several
// errors, for when the library's own text would only repeat or mislead.
type wrapped struct {
	text string
	errs []error
}

func (e *wrapped) Error() string   { return e.text }
func (e *wrapped) Unwrap() []error { return e.errs }
