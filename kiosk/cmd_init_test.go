package main

import (
	"path/filepath"
	"testing"

	"github.com/gatepost/gatepost/kiosk/config"
)

// kiosk init writes real devices: an installer who forgets to edit it gets
// a kiosk that waits for its thermometer, never one that invents entries.
// --demo writes the simulators.
func TestInitWritesRealDevicesUnlessDemo(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args     []string
		simulate bool
	}{{nil, false}, {[]string{"--demo"}, true}} {
		path := filepath.Join(dir, "kiosk.toml")
		args := append([]string{"init", "--force", "--config", path}, tc.args...)
		if out, err := runKiosk(t, args...); err != nil {
			t.Fatalf("kiosk %v: %v\n%s", args, err, out)
		}
		cfg, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Thermometer.Simulate != tc.simulate || cfg.Scanner.Simulate != tc.simulate {
			t.Errorf("kiosk %v: thermometer simulate %v, scanner %v; want %v", args, cfg.Thermometer.Simulate, cfg.Scanner.Simulate, tc.simulate)
		}
	}
}
