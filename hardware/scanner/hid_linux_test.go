//go:build linux

package scanner

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatepost/gatepost/hardware/serialport"
)

// The grab itself needs a real input device (or /dev/uinput, which test
// machines rarely have); these check that OpenHID refuses what is not one.
func TestOpenHIDRefuses(t *testing.T) {
	t.Parallel()
	if _, err := OpenHID(filepath.Join(t.TempDir(), "usb-scanner-event-kbd"), HIDOptions{}); !errors.Is(err, serialport.ErrNotFound) {
		t.Errorf("OpenHID(missing) = %v, want ErrNotFound", err)
	}
	if _, err := OpenHID(os.DevNull, HIDOptions{}); !errors.Is(err, serialport.ErrNotSerial) {
		t.Errorf("OpenHID(%s) = %v, want an error saying it is not an input device", os.DevNull, err)
	}
}
