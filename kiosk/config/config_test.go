package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSampleParsesToDefault(t *testing.T) {
	got, err := Parse([]byte(Sample))
	if err != nil {
		t.Fatalf("Parse(Sample) = %v", err)
	}
	if !reflect.DeepEqual(got, Default()) {
		t.Errorf("Parse(Sample) = %+v\nwant %+v", got, Default())
	}
	if got.Thermometer.Simulate || got.Scanner.Simulate {
		t.Error("kiosk init's configuration simulates a device: a forgotten edit would invent entries")
	}
	demo, err := Parse([]byte(DemoSample))
	if err != nil || !reflect.DeepEqual(demo, Demo()) || !demo.Thermometer.Simulate || !demo.Scanner.Simulate {
		t.Errorf("Parse(DemoSample) = %+v, %v; want Demo(), both devices simulated", demo, err)
	}
}

func TestParse(t *testing.T) {
	got, err := Parse([]byte("kiosk = \"north-gate\"\n[mqtt]\nack_timeout = \"2s\"\n[rules]\nfever_c = 37.5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Kiosk != "north-gate" || got.MQTT.AckTimeout.D() != 2*time.Second || got.Rules.FeverC != 37.5 {
		t.Errorf("Parse = %+v", got)
	}
	if got.MQTT.BatchSize != 100 {
		t.Errorf("unset batch_size = %d, want the default 100", got.MQTT.BatchSize)
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ toml, want string }{
		{"kiosk = \"gate/1\"", "kiosk"},
		{"colour = \"red\"", "colour"},
		{"[mqtt]\nbatch_size = 0", "mqtt.batch_size"},
		{"[mqtt]\nbroker = \"localhost:1883\"", "mqtt.broker"},
		{"[mqtt]\nack_timeout = \"soon\"", "duration"},
		{"[mqtt]\nbatch_size = \"ten\"", "line 2"},
		{"[rules]\nfever_c = 73", "rules.fever_c"},
		{"[thermometer]\ndriver = \"mlx\"", "thermometer.driver"},
		{"[thermometer]\nsimulate = false\nport = \"\"", "thermometer.port"},
		{"[scanner]\nsimulate = false\nport = \"\"", "scanner.port"},
		{"kiosk = ", "line 1"},
		{"[rules]\nfever_mode = \"lenient\"", "rules.fever_mode"},
		{"[rules]\nrecheck_within = \"1m\"", "rules.recheck_within"},
		{"[rules]\nkey_regions = [\"\"]", "rules.key_regions[0]"},
		{"[passes]\nmax_age = \"1s\"", "passes.max_age"},
	} {
		_, err := Parse([]byte(tc.toml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error mentioning %q", tc.toml, err, tc.want)
		}
	}
}

// The drivers judge the [thermometer] and [scanner] settings; config
// names the field and shows the value as the file holds it.
func TestParseNamesDriverSettings(t *testing.T) {
	for _, tc := range []struct{ toml, want string }{
		{"[thermometer]\ndriver = \"mlx\"", `thermometer.driver = "mlx": must be one of `},
		{"[thermometer]\nbaud = 300", "thermometer.baud = 300: must be a serial speed from 1200 to 921600"},
		{"[thermometer]\nreply_timeout = \"0s\"", `thermometer.reply_timeout = 0s: must be positive, e.g. "1s"`},
		{"[thermometer]\nretries = 11", "thermometer.retries = 11: must be 0 to 10"},
		{"[thermometer]\nbody_min_c = 10.0", "thermometer.body_min_c/body_max_c = 10-43: must be a range within 20-50 °C"},
		{"[thermometer]\ndistance_min_cm = 50.0\ndistance_max_cm = 5.0", "thermometer.distance_min_cm/distance_max_cm = 50-5: the minimum must be below the maximum"},
		{"[thermometer]\ndriver = \"line\"", `thermometer.pattern = "": must be a regular expression with named groups`},
		{"[thermometer]\ndriver = \"modbus\"\n[thermometer.modbus]\naddress = 300", "thermometer.modbus.address = 300: must be 1 to 247"},
		{"[thermometer]\ndriver = \"modbus\"\n[thermometer.modbus]\nfunction = 6", "thermometer.modbus.function = 6: must be 3 (holding registers) or 4"},
		{"[thermometer]\ndriver = \"modbus\"\n[thermometer.modbus]\ncount = 3", "thermometer.modbus.count = 3: must be 1 (16-bit) or 2 (32-bit)"},
		{"[thermometer]\ndriver = \"frame\"\n[thermometer.frame]\nheader = \"66 66\"\nlength = 9\nobject = {offset = 8}", "thermometer.frame.object.offset = 8: a 2-byte value there lies outside the 9-byte frame"},
		{"[scanner]\ndriver = \"usb\"", `scanner.driver = "usb": must be "serial", "hid" or "stdin"`},
		{"[scanner]\nbaud = 0", "scanner.baud = 0: must be a serial speed"},
		{"[scanner]\nbaud = 300", "scanner.baud = 300: must be a serial speed from 1200 to 921600"},
		{"[scanner]\ndriver = \"hid\"\ntrigger = \"gm65\"", `scanner.trigger = "gm65": works only with driver = "serial"`},
		{"[scanner]\nidle_gap = \"-1s\"", "scanner.idle_gap = -1s: must not be negative"},
	} {
		_, err := Parse([]byte(tc.toml))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error starting %q", tc.toml, err, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Sample)
	f.Add("kiosk = 1")
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := Parse([]byte(s))
		if err == nil {
			if verr := cfg.Validate(); verr != nil {
				t.Fatalf("Parse accepted a config that fails Validate: %v", verr)
			}
		}
	})
}

func TestLoadDataDirRelativeToFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kiosk.toml")
	if err := os.WriteFile(path, []byte("data_dir = \"data\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "data"); cfg.DataDir != want {
		t.Errorf("DataDir = %q, want %q", cfg.DataDir, want)
	}
	if _, err := Load(filepath.Join(dir, "missing.toml")); err == nil {
		t.Error("Load(missing file) = nil error")
	}
}

func TestScreenOffLoopback(t *testing.T) {
	if Default().Screen.OffLoopback() {
		t.Errorf("the default screen.listen %q is off loopback", Default().Screen.Listen)
	}
	for listen, want := range map[string]bool{
		"127.0.0.1:8080": false, "localhost:8080": false, "[::1]:8080": false, "127.0.0.2:80": false,
		"0.0.0.0:8080": true, ":8080": true, "192.168.1.20:8080": true, "gate.local:8080": true, "nonsense": true,
	} {
		if got := (Screen{Listen: listen}).OffLoopback(); got != want {
			t.Errorf("Screen{Listen: %q}.OffLoopback() = %v, want %v", listen, got, want)
		}
	}
}
