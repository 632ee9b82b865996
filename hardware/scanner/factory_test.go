package scanner

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware"
)

// Each bad setting is named as kiosk.toml's [scanner] section names it,
// so the configuration only adds the section.
func TestSettingsValidate(t *testing.T) {
	t.Parallel()
	for _, s := range []Settings{
		{Driver: "serial"}, {Driver: "serial", Baud: 115200, Trigger: "gm65", IdleGap: time.Second},
		{Driver: "hid"}, {Driver: "stdin"},
	} {
		if err := s.Validate(); err != nil {
			t.Errorf("%+v.Validate() = %v, want nil", s, err)
		}
	}
	for _, tt := range []struct {
		s    Settings
		want string
	}{
		{Settings{Driver: "usb"}, `driver = "usb": must be "serial", "hid" or "stdin"`},
		{Settings{Driver: "serial", Baud: 300}, "baud = 300: must be a serial speed"},
		{Settings{Driver: "serial", Trigger: "laser"}, `trigger = "laser": must be "" (the scanner reads by itself) or one of datalogic, gm65, honeywell, zkteco`},
		{Settings{Driver: "hid", Trigger: "gm65"}, `trigger = "gm65": works only with driver = "serial"`},
		{Settings{Driver: "serial", IdleGap: -time.Second}, "idle_gap = -1s: must not be negative"},
	} {
		err := tt.s.Validate()
		if !errors.As(err, new(*hardware.SettingError)) || !strings.HasPrefix(err.Error(), "scanner: "+tt.want) {
			t.Errorf("%+v.Validate() = %v, want a *hardware.SettingError: scanner: %s...", tt.s, err, tt.want)
		}
	}
}
