package hardware

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestSettingError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *SettingError
		want string
	}{
		{&SettingError{"baud", 300, "must be a serial speed"}, "baud = 300: must be a serial speed"},
		{&SettingError{"driver", "mlx", "must be one of a, b"}, `driver = "mlx": must be one of a, b`},
		{&SettingError{"idle_gap", -time.Second, "must not be negative"}, "idle_gap = -1s: must not be negative"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestUnder(t *testing.T) {
	t.Parallel()
	inner := fmt.Errorf("modbus: %w", &SettingError{"address", 248, "must be 1 to 247"})
	var se *SettingError
	if err := Under("modbus", inner); !errors.As(err, &se) || se.Setting != "modbus.address" || err.Error() != "modbus.address = 248: must be 1 to 247" {
		t.Errorf("Under(modbus, %v) = %v, want modbus.address = 248: must be 1 to 247", inner, err)
	}
	if err := Under("modbus", nil); err != nil {
		t.Errorf("Under(modbus, nil) = %v, want nil", err)
	}
	plain := errors.New("no setting here")
	if err := Under("modbus", plain); err != plain {
		t.Errorf("Under(modbus, %v) = %v, want it unchanged", plain, err)
	}
}
