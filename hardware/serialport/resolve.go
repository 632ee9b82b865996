package serialport

import (
	"fmt"
	"strings"
)

// Resolve turns a port name from a configuration into a path to open:
//
//   - a path (/dev/ttyUSB0, /dev/serial/by-id/usb-…, a simulator's
//     /dev/pts/N) is returned as it is;
//   - usb:VID:PID or usb:VID:PID:SERIAL (hex, any case, e.g.
//     usb:1A86:7523) is looked up among the USB serial ports, so a device
//     replugged onto another ttyUSB number is still found.
//
// A USB name that matches no port wraps ErrNotFound; one that matches
// several (two identical adapters without serial numbers) is an error
// asking for the serial number or a by-id path.
func Resolve(name string) (string, error) { return resolve(name, List) }

func resolve(name string, list func() ([]Info, error)) (string, error) {
	rest, ok := strings.CutPrefix(name, "usb:")
	if !ok {
		return name, nil
	}
	parts := strings.Split(rest, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return "", fmt.Errorf("port %q: write a USB device as usb:VID:PID or usb:VID:PID:SERIAL, e.g. usb:1A86:7523", name)
	}
	ports, err := list()
	if err != nil {
		return "", err
	}
	var found []string
	for _, p := range ports {
		if !p.IsUSB || !strings.EqualFold(p.VID, parts[0]) || !strings.EqualFold(p.PID, parts[1]) {
			continue
		}
		if len(parts) == 3 && p.Serial != parts[2] {
			continue
		}
		found = append(found, p.Path)
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("port %s: %w: no USB serial device with that ID is plugged in (see kiosk ports)", name, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("port %s: %d devices match (%s): add the serial number (usb:VID:PID:SERIAL) or use a /dev/serial/by-id path", name, len(found), strings.Join(found, ", "))
}
