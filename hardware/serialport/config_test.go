package serialport

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  Config
		want string // a substring of the error, "" for valid
	}{
		{Config{}, ""},
		{Config{Baud: 115200, DataBits: 7, Parity: ParityEven, StopBits: 2, ReadTimeout: time.Second}, ""},
		{Config{Baud: 1200}, ""},
		{Config{Baud: 921600}, ""},
		{Config{Baud: -1}, "baud = -1: must be a serial speed"},
		{Config{Baud: 300}, "baud = 300: must be a serial speed from 1200"},
		{Config{Baud: 1000000}, "baud = 1000000"},
		{Config{DataBits: 9}, "data_bits = 9"},
		{Config{DataBits: 4}, "data_bits = 4"},
		{Config{Parity: Parity(7)}, "parity = 7"},
		{Config{StopBits: 3}, "stop_bits = 3"},
		{Config{ReadTimeout: -time.Second}, "read_timeout = -1s"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v.Validate() = %v, want nil", tt.cfg, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v.Validate() = %v, want an error naming %q", tt.cfg, err, tt.want)
		case tt.want != "" && !errors.As(err, new(*hardware.SettingError)):
			t.Errorf("%+v.Validate() = %T, want a *hardware.SettingError", tt.cfg, err)
		}
	}
}

func TestConfigWithDefaults(t *testing.T) {
	t.Parallel()
	got := Config{}.WithDefaults()
	want := Config{Baud: 9600, DataBits: 8, Parity: ParityNone, StopBits: 1, ReadTimeout: 100 * time.Millisecond}
	if got != want {
		t.Errorf("Config{}.WithDefaults() = %+v, want %+v", got, want)
	}
	set := Config{Baud: 115200, DataBits: 7, Parity: ParityOdd, StopBits: 2, ReadTimeout: time.Second}
	if got := set.WithDefaults(); got != set {
		t.Errorf("%+v.WithDefaults() = %+v, want it unchanged", set, got)
	}
}
