package serialport

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  Config
		want string // a substring of the error, "" for valid
	}{
		{Config{}, ""},
		{Config{Baud: 115200, DataBits: 7, Parity: ParityEven, StopBits: 2, ReadTimeout: time.Second}, ""},
		{Config{Baud: -1}, "Baud -1"},
		{Config{DataBits: 9}, "DataBits 9"},
		{Config{DataBits: 4}, "DataBits 4"},
		{Config{Parity: Parity(7)}, "Parity 7"},
		{Config{StopBits: 3}, "StopBits 3"},
		{Config{ReadTimeout: -time.Second}, "ReadTimeout -1s"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v.Validate() = %v, want nil", tt.cfg, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v.Validate() = %v, want an error naming %q", tt.cfg, err, tt.want)
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
