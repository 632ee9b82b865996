package serialport

import (
	"errors"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	ports := []Info{
		{Path: "/dev/ttyS0"},
		{Path: "/dev/ttyUSB3", IsUSB: true, VID: "1A86", PID: "7523"},
		{Path: "/dev/ttyACM0", IsUSB: true, VID: "0C2E", PID: "0B61", Serial: "A1"},
		{Path: "/dev/ttyACM1", IsUSB: true, VID: "0C2E", PID: "0B61", Serial: "B2"},
	}
	list := func() ([]Info, error) { return ports, nil }
	tests := []struct{ name, want, err string }{
		{"/dev/ttyUSB0", "/dev/ttyUSB0", ""},
		{"/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0", "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0", ""},
		{"usb:1a86:7523", "/dev/ttyUSB3", ""},
		{"usb:0C2E:0B61:B2", "/dev/ttyACM1", ""},
		{"usb:0C2E:0B61", "", "2 devices match"},
		{"usb:0403:6001", "", "no USB serial device"},
		{"usb:1A86", "", "usb:VID:PID"},
	}
	for _, tt := range tests {
		got, err := resolve(tt.name, list)
		if tt.err == "" && (err != nil || got != tt.want) {
			t.Errorf("resolve(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
		if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("resolve(%q) = %q, %v; want an error containing %q", tt.name, got, err, tt.err)
		}
	}
	if _, err := resolve("usb:0403:6001", list); !errors.Is(err, ErrNotFound) {
		t.Errorf("resolve of an absent device: %v, want ErrNotFound", err)
	}
}
