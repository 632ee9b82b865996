//go:build linux

package scanner

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/gatepost/gatepost/hardware/serialport"
)

// eviocgrab is EVIOCGRAB, _IOW('E', 0x90, int).
const eviocgrab = 0x40044590

// OpenHID opens a scanner's evdev node (e.g. /dev/input/by-id/
// usb-…-event-kbd) and grabs it exclusively, so that its key presses do
// not also type into the kiosk's browser.
func OpenHID(path string, opts HIDOptions) (*HID, error) {
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		switch {
		case errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("scanner: open %s: %w", path, serialport.ErrNotFound)
		case errors.Is(err, os.ErrPermission):
			return nil, fmt.Errorf("scanner: open %s: permission denied: the user needs to be in the group that owns it (often input): %w", path, serialport.ErrPermission)
		}
		return nil, fmt.Errorf("scanner: open %s: %w", path, err)
	}
	sc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("scanner: %s: %w", path, err)
	}
	var errno syscall.Errno
	if cerr := sc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, eviocgrab, 1)
	}); cerr != nil {
		f.Close()
		return nil, fmt.Errorf("scanner: %s: %w", path, cerr)
	}
	switch {
	case errno == syscall.EBUSY:
		f.Close()
		return nil, fmt.Errorf("scanner: grab %s: %w", path, serialport.ErrBusy)
	case errno != 0:
		f.Close()
		return nil, fmt.Errorf("scanner: grab %s: %w: not an input event device (use the node ending in -event-kbd): %w", path, serialport.ErrNotSerial, errno)
	}
	return NewHID(f, opts), nil
}
