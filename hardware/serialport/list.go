package serialport

import (
	"fmt"

	"go.bug.st/serial"
	"go.bug.st/serial/enumerator"
)

// Info describes a serial port found on this machine.
type Info struct {
	Path    string // e.g. /dev/ttyUSB0
	IsUSB   bool
	VID     string // USB vendor ID in upper-case hex, e.g. "1A86"; empty if not USB
	PID     string // USB product ID in upper-case hex
	Serial  string // USB serial number, if the device has one
	Product string // USB product string, if the device has one
}

// List returns the serial ports of this machine, with USB details where
// there are any, for a setup screen to offer.
//
// Pseudo-terminals (/dev/pts/N, and so the simulators in hardware/sim) are
// never listed: open them by path. Beware that the library checks each
// /dev/ttyS* port by opening it, which resets its line settings; as root
// this happens even to a ttyS port this process is using, so do not call
// List while one is open.
func List() ([]Info, error) {
	// On Linux the library gives a port without a sysfs device entry an
	// empty name. Its details come in the same order as this list, so
	// fill the name back in from it.
	names, err := serial.GetPortsList()
	if err != nil {
		return nil, fmt.Errorf("list serial ports: %w", err)
	}
	details, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, fmt.Errorf("list serial ports: %w", err)
	}
	infos := make([]Info, 0, len(details))
	for i, d := range details {
		path := d.Name
		if path == "" && len(details) == len(names) {
			path = names[i]
		}
		if path == "" {
			continue // a port appeared or vanished between the two scans
		}
		infos = append(infos, Info{
			Path:    path,
			IsUSB:   d.IsUSB,
			VID:     d.VID,
			PID:     d.PID,
			Serial:  d.SerialNumber,
			Product: d.Product,
		})
	}
	return infos, nil
}
