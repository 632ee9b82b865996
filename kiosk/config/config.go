// Package config is the kiosk's configuration: a TOML file decoded
// strictly (an unknown key is an error), defaults for everything that has a
// sensible one, and Validate naming the bad field and value.
//
// Only the kiosk program imports it; components take plain values from it.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatepost/gatepost/protocol"
	"github.com/pelletier/go-toml/v2"
)

// Config is everything a kiosk needs to run.
type Config struct {
	Kiosk       string      `toml:"kiosk"`    // this kiosk's id, unique in the fleet
	Site        string      `toml:"site"`     // the compound it guards
	DataDir     string      `toml:"data_dir"` // holds journal.db
	MQTT        MQTT        `toml:"mqtt"`
	Screen      Screen      `toml:"screen"`
	Thermometer Thermometer `toml:"thermometer"`
	Scanner     Scanner     `toml:"scanner"`
	Rules       Rules       `toml:"rules"`
	Retention   Retention   `toml:"retention"`
}

// Retention is how long the kiosk keeps what the hub already holds, and
// when its disk counts as nearly full.
type Retention struct {
	// MaxAge: acknowledged entries older than this are purged. Entries the
	// hub has not acknowledged are never purged. 0 keeps everything.
	MaxAge       Duration `toml:"max_age"`
	CheckEvery   Duration `toml:"check_every"`    // how often to purge and check the disk
	MinFreeBytes int64    `toml:"min_free_bytes"` // below this free space the guard and hub are warned
}

// MQTT is the link to the hub.
type MQTT struct {
	Broker      string   `toml:"broker"` // tcp://host:port
	Username    string   `toml:"username"`
	Password    string   `toml:"password"`
	BatchSize   int      `toml:"batch_size"`    // entries per batch
	MaxInFlight int      `toml:"max_in_flight"` // batches sent but not yet acked
	AckTimeout  Duration `toml:"ack_timeout"`   // resend from the last ack after this long without progress
	BatchWait   Duration `toml:"batch_wait"`    // a partial batch waits this long for more entries
	GzipAbove   int      `toml:"gzip_above"`    // compress batches longer than this many bytes (0: never)
	BackoffMin  Duration `toml:"backoff_min"`   // reconnect back-off, doubled per failure, with jitter
	BackoffMax  Duration `toml:"backoff_max"`
}

// Screen is the guard's touchscreen server.
type Screen struct {
	Listen string `toml:"listen"` // host:port
}

// Thermometer says which module to read and where.
type Thermometer struct {
	Driver   string   `toml:"driver"` // "gy-mcu90614"
	Port     string   `toml:"port"`   // e.g. /dev/ttyUSB0
	Simulate bool     `toml:"simulate"`
	Timeout  Duration `toml:"timeout"` // how long to wait for a reading after a scan
}

// Scanner says which QR scanner to read and where.
type Scanner struct {
	Driver   string `toml:"driver"` // "serial"
	Port     string `toml:"port"`   // e.g. /dev/ttyACM0
	Baud     int    `toml:"baud"`
	Simulate bool   `toml:"simulate"`
	// SimulateEvery is the mean gap between simulated scans (demo traffic).
	SimulateEvery Duration `toml:"simulate_every"`
}

// Rules are the gate's thresholds.
type Rules struct {
	FeverC float64 `toml:"fever_c"` // screened temperature at or above which a person is held
}

// Default returns a configuration that runs on one machine with simulated
// devices and a hub on localhost.
func Default() Config {
	return Config{
		Kiosk:   "gate-1",
		Site:    "site-1",
		DataDir: "kiosk-data",
		MQTT: MQTT{
			Broker:      "tcp://127.0.0.1:1883",
			BatchSize:   100,
			MaxInFlight: 4,
			AckTimeout:  Duration(10 * time.Second),
			BatchWait:   Duration(100 * time.Millisecond),
			GzipAbove:   4096,
			BackoffMin:  Duration(250 * time.Millisecond),
			BackoffMax:  Duration(30 * time.Second),
		},
		Retention: Retention{
			MaxAge:       Duration(30 * 24 * time.Hour),
			CheckEvery:   Duration(10 * time.Minute),
			MinFreeBytes: 200 << 20,
		},
		Screen:      Screen{Listen: "127.0.0.1:8080"},
		Thermometer: Thermometer{Driver: "gy-mcu90614", Port: "/dev/ttyUSB0", Simulate: true, Timeout: Duration(2 * time.Second)},
		Scanner:     Scanner{Driver: "serial", Port: "/dev/ttyACM0", Baud: 9600, Simulate: true, SimulateEvery: Duration(3 * time.Second)},
		Rules:       Rules{FeverC: 37.3},
	}
}

// Load reads a TOML file over the defaults and validates the result. A
// relative data_dir is taken relative to the file's folder.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	// A relative data folder is relative to the config file, not to
	// wherever the daemon or an installer's shell happens to start.
	if !filepath.IsAbs(cfg.DataDir) {
		cfg.DataDir = filepath.Join(filepath.Dir(path), cfg.DataDir)
	}
	return cfg, nil
}

// Parse decodes TOML over the defaults and validates the result.
func Parse(data []byte) (Config, error) {
	cfg := Default()
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) {
			return Config{}, fmt.Errorf("unknown key:\n%s", strict.String())
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return Config{}, fmt.Errorf("line %d, column %d: %s", row, col, de.Error())
		}
		return Config{}, err
	}
	return cfg, cfg.Validate()
}

// Validate names the first bad field and its value.
func (c Config) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("%s = %v: %s", field, v, want)
	}
	switch {
	case !protocol.ValidName(c.Kiosk):
		return bad("kiosk", fmt.Sprintf("%q", c.Kiosk), "must be 1-64 letters, digits, '-' or '_'")
	case !protocol.ValidName(c.Site):
		return bad("site", fmt.Sprintf("%q", c.Site), "must be 1-64 letters, digits, '-' or '_'")
	case c.DataDir == "":
		return bad("data_dir", `""`, "must name a folder for the journal")
	case !strings.HasPrefix(c.MQTT.Broker, "tcp://") && !strings.HasPrefix(c.MQTT.Broker, "ssl://") &&
		!strings.HasPrefix(c.MQTT.Broker, "mqtt://") && !strings.HasPrefix(c.MQTT.Broker, "tls://"):
		return bad("mqtt.broker", fmt.Sprintf("%q", c.MQTT.Broker), "must look like tcp://host:1883")
	case c.MQTT.BatchSize < 1 || c.MQTT.BatchSize > protocol.MaxBatchEntries:
		return bad("mqtt.batch_size", c.MQTT.BatchSize, fmt.Sprintf("must be 1 to %d", protocol.MaxBatchEntries))
	case c.MQTT.MaxInFlight < 1 || c.MQTT.MaxInFlight > 64:
		return bad("mqtt.max_in_flight", c.MQTT.MaxInFlight, "must be 1 to 64")
	case c.MQTT.AckTimeout.D() < 100*time.Millisecond:
		return bad("mqtt.ack_timeout", c.MQTT.AckTimeout, "must be at least 100ms")
	case c.MQTT.BatchWait.D() < 0 || c.MQTT.BatchWait.D() > time.Minute:
		return bad("mqtt.batch_wait", c.MQTT.BatchWait, "must be 0 to 1m")
	case c.MQTT.GzipAbove < 0:
		return bad("mqtt.gzip_above", c.MQTT.GzipAbove, "must be 0 (never) or a size in bytes")
	case c.MQTT.BackoffMin.D() < 10*time.Millisecond:
		return bad("mqtt.backoff_min", c.MQTT.BackoffMin, "must be at least 10ms")
	case c.MQTT.BackoffMax.D() < c.MQTT.BackoffMin.D():
		return bad("mqtt.backoff_max", c.MQTT.BackoffMax, "must be at least mqtt.backoff_min")
	case c.Retention.MaxAge.D() < 0:
		return bad("retention.max_age", c.Retention.MaxAge, "must be 0 (keep all) or positive, e.g. \"720h\"")
	case c.Retention.CheckEvery.D() < time.Second:
		return bad("retention.check_every", c.Retention.CheckEvery, "must be at least 1s")
	case c.Retention.MinFreeBytes < 0:
		return bad("retention.min_free_bytes", c.Retention.MinFreeBytes, "must be 0 or more")
	case c.Screen.Listen == "":
		return bad("screen.listen", `""`, "must be host:port, e.g. 127.0.0.1:8080")
	case c.Thermometer.Driver != "gy-mcu90614":
		return bad("thermometer.driver", fmt.Sprintf("%q", c.Thermometer.Driver), `must be "gy-mcu90614"`)
	case !c.Thermometer.Simulate && c.Thermometer.Port == "":
		return bad("thermometer.port", `""`, "must name the serial device, e.g. /dev/ttyUSB0, or set simulate = true")
	case c.Thermometer.Timeout.D() <= 0:
		return bad("thermometer.timeout", c.Thermometer.Timeout, "must be positive, e.g. \"2s\"")
	case c.Scanner.Driver != "serial":
		return bad("scanner.driver", fmt.Sprintf("%q", c.Scanner.Driver), `must be "serial"`)
	case !c.Scanner.Simulate && c.Scanner.Port == "":
		return bad("scanner.port", `""`, "must name the serial device, e.g. /dev/ttyACM0, or set simulate = true")
	case c.Scanner.Baud < 1200 || c.Scanner.Baud > 921600:
		return bad("scanner.baud", c.Scanner.Baud, "must be a serial speed such as 9600 or 115200")
	case c.Scanner.Simulate && c.Scanner.SimulateEvery.D() < 10*time.Millisecond:
		return bad("scanner.simulate_every", c.Scanner.SimulateEvery, "must be at least 10ms")
	case c.Rules.FeverC < 35 || c.Rules.FeverC > 40:
		return bad("rules.fever_c", c.Rules.FeverC, "must be between 35 and 40 °C (37.3 is China's screening line)")
	}
	return nil
}

// Duration is a time.Duration written in TOML as a string like "10s".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalText parses "10s", "1m30s" and the like.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration like \"10s\" or \"1m\"", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes d as "10s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }
