//go:build !linux

package scanner

import "errors"

// OpenHID is only available on Linux.
func OpenHID(path string, opts HIDOptions) (*HID, error) {
	return nil, errors.New("scanner: HID keyboard mode needs Linux evdev")
}
