package main

import (
	"errors"
	"fmt"
	"os/user"
	"strings"

	"github.com/gatepost/gatepost/hardware/serialport"
	"github.com/gatepost/gatepost/hardware/thermometer"
)

// explain turns a device error into what an installer should do about
// it, keeping the error itself for the details.
func explain(err error, port string, baud int) error {
	var ex *thermometer.ModbusException
	var advice string
	switch {
	case errors.Is(err, serialport.ErrPermission):
		name := "this user"
		if u, uerr := user.Current(); uerr == nil {
			name = u.Username
		}
		group := "dialout"
		if strings.HasPrefix(port, "/dev/input/") {
			group = "input" // a scanner in keyboard mode
		}
		advice = fmt.Sprintf("permission denied on %s: add %s to the group that owns it (usually %s): sudo usermod -aG %s %s, then log out and in again", port, name, group, group, name)
	case errors.Is(err, serialport.ErrNotFound):
		advice = fmt.Sprintf("there is no device at %s: check the cable, and run `kiosk ports` to see what is plugged in", port)
	case errors.Is(err, serialport.ErrBusy):
		advice = fmt.Sprintf("%s is in use by another program; if the kiosk is running, stop it first (systemctl stop gatepost-kiosk)", port)
	case errors.Is(err, serialport.ErrNotSerial):
		advice = fmt.Sprintf("%s is not a serial port: check the path (`kiosk ports`)", port)
	case errors.Is(err, serialport.ErrGone):
		advice = fmt.Sprintf("the device at %s went away: unplugged or switched off", port)
	case errors.As(err, &ex):
		advice = fmt.Sprintf("the module answered but refused the request (%s): check the register, count and function code in its manual", ex.Name())
	case errors.Is(err, thermometer.ErrChecksum):
		advice = fmt.Sprintf("answers arrive damaged at %d baud: check the baud rate, the ground wire, and for RS-485 that A and B are not swapped", baud)
	case errors.Is(err, thermometer.ErrNoReply):
		advice = fmt.Sprintf("no reply at %d baud: check the driver matches the module, the baud rate, and that TX and RX are crossed (TX to RX)", baud)
	default:
		return err
	}
	return fmt.Errorf("%s\n  (%w)", advice, err)
}
