// Package config is the kiosk's configuration: a TOML file decoded
// strictly (an unknown key is an error), defaults for everything that has a
// sensible one, and Validate naming the bad field and value. The
// [thermometer] and [scanner] sections become the hardware drivers'
// settings here (Thermometer.Settings, Scanner.Settings), and the drivers'
// own Validate methods judge them; config adds the field's section.
//
// Only the kiosk program imports it (its commands and its daemon);
// components take plain values from it.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
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
	Passes      Passes      `toml:"passes"`
	Compound    Compound    `toml:"compound"`
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
	// ResultFor is how long a result stays on the screen before it returns
	// to idle by itself (the next scan replaces it at once; an alert stays
	// until a guard taps "seen").
	ResultFor Duration `toml:"result_for"`
	// ModeFor is how long the screen waits for a guard's pass after
	// "sign in", "sign out" or a disinfection area is tapped; then the
	// next scan is a resident's again.
	ModeFor Duration `toml:"mode_for"`
}

// OffLoopback reports whether the screen is served beyond this machine
// (listen on 0.0.0.0, a LAN address or a name other than localhost). The
// touchscreen's browser runs on the kiosk itself, so that only widens
// who can reach the page; the daemon warns at start.
func (s Screen) OffLoopback() bool {
	host, _, err := net.SplitHostPort(s.Listen)
	if err != nil {
		return true
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// Compound is what the guard's screen offers to tap: the buildings and
// rooms a visitor may be visiting, and the regions a visitor may come
// from. (Not called [site]: "site" is already the compound's id.)
type Compound struct {
	Buildings     []string `toml:"buildings"`       // building numbers or names, as on the gate's map
	Floors        int      `toml:"floors"`          // floors of every building
	UnitsPerFloor int      `toml:"units_per_floor"` // rooms per floor: floor 5, unit 2 is room 502
	Regions       []string `toml:"regions"`         // origins offered to visitors; rules.key_regions are marked on them
}

// Thermometer says which module to read and where, and what counts as a
// person's temperature. docs/hardware.md describes every driver.
type Thermometer struct {
	// Driver: gy-mcu90614, cjmcu-90614, a4-register (built-in frame
	// profiles), frame (the profile in [thermometer.frame]), modbus, line.
	Driver string `toml:"driver"`
	// Port: a path (/dev/ttyUSB0), a stable name (/dev/serial/by-id/...),
	// or usb:VID:PID[:SERIAL] (e.g. usb:1A86:7523).
	Port     string   `toml:"port"`
	Baud     int      `toml:"baud"` // 0: the driver's usual speed
	Simulate bool     `toml:"simulate"`
	Timeout  Duration `toml:"timeout"` // how long to wait for a reading after a scan
	// ReplyTimeout is how long one request waits; Retries how many
	// times it is sent again; PollInterval the least gap between requests.
	ReplyTimeout Duration `toml:"reply_timeout"`
	Retries      int      `toml:"retries"`
	PollInterval Duration `toml:"poll_interval"`
	// A reading outside these is "measure again", never a temperature.
	BodyMinC      float64 `toml:"body_min_c"`
	BodyMaxC      float64 `toml:"body_max_c"`
	DistanceMinCM float64 `toml:"distance_min_cm"` // 0: no bound
	DistanceMaxCM float64 `toml:"distance_max_cm"` // 0: no bound
	// Line modules: a regular expression with named groups object,
	// ambient, body, distance; and a command sent before each reading.
	Pattern string      `toml:"pattern"`
	Command string      `toml:"command"`
	Modbus  ModbusTherm `toml:"modbus"`
	Frame   FrameTherm  `toml:"frame"`
}

// ModbusTherm is a Modbus RTU module's register map.
type ModbusTherm struct {
	Address  int     `toml:"address"`  // slave address 1-247
	Function int     `toml:"function"` // 3 (holding) or 4 (input registers)
	Register int     `toml:"register"` // object temperature's first register
	Count    int     `toml:"count"`    // 1 (16-bit) or 2 (32-bit)
	Signed   bool    `toml:"signed"`
	Float    bool    `toml:"float"` // 32-bit IEEE float
	Scale    float64 `toml:"scale"` // °C per count
	// WordOrder for 32-bit values: "big" (high word first, ABCD) or
	// "little" (low word first, CDAB).
	WordOrder string `toml:"word_order"`
	// AmbientRegister is read with a second request; -1: none.
	AmbientRegister int `toml:"ambient_register"`
}

// FrameTherm is a fixed-frame module's profile as data, for driver "frame".
type FrameTherm struct {
	Name     string     `toml:"name"`
	Header   string     `toml:"header"` // hex bytes, e.g. "66 66"
	Length   int        `toml:"length"` // whole frame in bytes
	Query    string     `toml:"query"`  // hex bytes sent before each read; "" for continuous modules
	Checksum string     `toml:"checksum"`
	SumFrom  int        `toml:"checksum_from"` // first byte the checksum covers
	Object   FrameField `toml:"object"`
	Ambient  FrameField `toml:"ambient"`  // absent unless offset is set
	Body     FrameField `toml:"body"`     // absent unless offset is set
	Distance FrameField `toml:"distance"` // absent unless offset is set
}

// FrameField is one value in a frame.
type FrameField struct {
	Offset       int     `toml:"offset"`
	Size         int     `toml:"size"` // 1, 2 or 4 bytes; 0 means 2
	LittleEndian bool    `toml:"little_endian"`
	Unsigned     bool    `toml:"unsigned"`
	Scale        float64 `toml:"scale"` // 0 means 0.01
}

// Scanner says which QR scanner to read and where.
type Scanner struct {
	// Driver: "serial" (RS-232 or USB CDC), "hid" (keyboard mode, Linux
	// evdev) or "stdin" (development).
	Driver string `toml:"driver"`
	// Port: serial: a path, /dev/serial/by-id/..., or usb:VID:PID[:SERIAL];
	// hid: /dev/input/by-id/...-event-kbd.
	Port     string `toml:"port"`
	Baud     int    `toml:"baud"`
	Simulate bool   `toml:"simulate"`
	// StripAIM removes AIM identifier prefixes (]Q1 ...).
	StripAIM bool `toml:"strip_aim"`
	// NoRead lists the scanner's "nothing read" replies, separated by |.
	NoRead string `toml:"no_read"`
	// Trigger: "" (the scanner reads by itself), honeywell, gm65, zkteco
	// or datalogic (serial trigger mode).
	Trigger string `toml:"trigger"`
	// IdleGap ends a code after this silence, for scanners that send no
	// terminator; "0s": off.
	IdleGap Duration `toml:"idle_gap"`
	// DuplicateWindow: the same code again within it is the same scan;
	// "0s" turns suppression off.
	DuplicateWindow Duration `toml:"duplicate_window"`
	// SimulateEvery is the mean gap between simulated scans (demo traffic).
	SimulateEvery Duration `toml:"simulate_every"`
}

// Rules are the gate's rules (see kiosk/checkpoint).
type Rules struct {
	FeverC           float64  `toml:"fever_c"`           // screened temperature at or above which a person is held
	FeverMode        string   `toml:"fever_mode"`        // "hard": a confirmed fever is turned back; "soft": let in, reported
	RecheckAfter     Duration `toml:"recheck_after"`     // rest before the second reading
	RecheckWithin    Duration `toml:"recheck_within"`    // a scan this long after a fever hold is still the second reading
	RequirePass      bool     `toml:"require_pass"`      // false: measure-only mode
	VisitorsAdmitted bool     `toml:"visitors_admitted"` // registered visitors may go in
	KeyRegions       []string `toml:"key_regions"`       // returnee origins reported at once
	MinOnPost        int      `toml:"min_on_post"`       // warn with fewer guards on post
}

// Passes says where the pass keys and the status list come from and how
// old the list may get.
type Passes struct {
	// Dir holds keys.json and status-list.json (from `hub passes
	// export-kiosk`); "" is data_dir. The downlink replaces these files.
	Dir       string   `toml:"dir"`
	MaxAge    Duration `toml:"max_age"`    // warn when the status list is older
	ClockSkew Duration `toml:"clock_skew"` // tolerated kiosk clock error for a pass's dates
}

// Default returns a configuration that runs on one machine with simulated
// Demo is Default with both devices simulated: the demo program, `kiosk
// init --demo` and tests. A real kiosk never runs on it: its entries
// would be invented.
func Demo() Config {
	c := Default()
	c.Thermometer.Simulate, c.Scanner.Simulate = true, true
	return c
}

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
		Screen: Screen{Listen: "127.0.0.1:8080", ResultFor: Duration(5 * time.Second), ModeFor: Duration(30 * time.Second)},
		Thermometer: Thermometer{
			Driver: "gy-mcu90614", Port: "/dev/ttyUSB0", Timeout: Duration(2 * time.Second),
			ReplyTimeout: Duration(time.Second), Retries: 2,
			BodyMinC: 34.0, BodyMaxC: 43.0,
			Modbus: ModbusTherm{Address: 1, Function: 3, Count: 1, Signed: true, Scale: 0.01, WordOrder: "big", AmbientRegister: -1},
		},
		Scanner: Scanner{
			Driver: "serial", Port: "/dev/ttyACM0", Baud: 9600, SimulateEvery: Duration(3 * time.Second),
			StripAIM: true, NoRead: "%%NoRead|NoRead|NR", DuplicateWindow: Duration(2 * time.Second),
		},
		Rules: Rules{FeverC: 37.3, FeverMode: "hard", RecheckAfter: Duration(2 * time.Minute), RecheckWithin: Duration(30 * time.Minute),
			RequirePass: true, KeyRegions: []string{}, MinOnPost: 2},
		Passes: Passes{MaxAge: Duration(24 * time.Hour), ClockSkew: Duration(5 * time.Minute)},
		Compound: Compound{
			Buildings: []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"},
			Floors:    6, UnitsPerFloor: 4,
			Regions: append([]string(nil), DefaultRegions...),
		},
	}
}

// DefaultRegions are the origins offered to visitors unless configured:
// the city itself first, then the provinces most travel came from.
var DefaultRegions = []string{"上海", "江苏", "浙江", "安徽", "湖北", "河南", "江西", "湖南",
	"山东", "广东", "福建", "四川", "北京", "重庆", "境外"}

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
	if cfg.Passes.Dir != "" && !filepath.IsAbs(cfg.Passes.Dir) {
		cfg.Passes.Dir = filepath.Join(filepath.Dir(path), cfg.Passes.Dir)
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
	for _, check := range []func() error{c.validateLink, c.validateDevices, c.validateGate, c.validateCompound} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// validateLink checks who the kiosk is, where it keeps its data, and how
// it reaches the hub and the guard's screen.
func (c Config) validateLink() error {
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
	}
	return nil
}

// validateGate checks the gate's rules, the screen's timings and the pass
// files.
func (c Config) validateGate() error {
	switch {
	case c.Rules.FeverC < 35 || c.Rules.FeverC > 40:
		return bad("rules.fever_c", c.Rules.FeverC, "must be between 35 and 40 °C (37.3 is China's screening line)")
	case c.Rules.FeverMode != "hard" && c.Rules.FeverMode != "soft":
		return bad("rules.fever_mode", fmt.Sprintf("%q", c.Rules.FeverMode), `must be "hard" or "soft"`)
	case c.Rules.RecheckAfter.D() < 0 || c.Rules.RecheckAfter.D() > time.Hour:
		return bad("rules.recheck_after", c.Rules.RecheckAfter, "must be 0 to 1h")
	case c.Rules.RecheckWithin.D() <= c.Rules.RecheckAfter.D() || c.Rules.RecheckWithin.D() > 24*time.Hour:
		return bad("rules.recheck_within", c.Rules.RecheckWithin, "must be longer than recheck_after and at most 24h")
	case c.Rules.MinOnPost < 0 || c.Rules.MinOnPost > 8:
		return bad("rules.min_on_post", c.Rules.MinOnPost, "must be 0 to 8")
	case c.Screen.ResultFor.D() < time.Second || c.Screen.ResultFor.D() > time.Minute:
		return bad("screen.result_for", c.Screen.ResultFor, "must be 1s to 1m (5s is usual)")
	case c.Screen.ModeFor.D() < 5*time.Second || c.Screen.ModeFor.D() > 10*time.Minute:
		return bad("screen.mode_for", c.Screen.ModeFor, "must be 5s to 10m (30s is usual)")
	case c.Passes.MaxAge.D() < time.Minute:
		return bad("passes.max_age", c.Passes.MaxAge, "must be at least 1m (24h is usual)")
	case c.Passes.ClockSkew.D() < 0 || c.Passes.ClockSkew.D() > 24*time.Hour:
		return bad("passes.clock_skew", c.Passes.ClockSkew, "must be 0 to 24h")
	}
	for i, k := range c.Rules.KeyRegions {
		if strings.TrimSpace(k) == "" {
			return bad(fmt.Sprintf("rules.key_regions[%d]", i), `""`, "must name a region")
		}
	}
	return nil
}

// validateCompound checks the buildings and regions the screen offers.
func (c Config) validateCompound() error {
	switch {
	case len(c.Compound.Buildings) == 0 || len(c.Compound.Buildings) > 200:
		return bad("compound.buildings", len(c.Compound.Buildings), "must list 1 to 200 buildings")
	case c.Compound.Floors < 1 || c.Compound.Floors > 99:
		return bad("compound.floors", c.Compound.Floors, "must be 1 to 99")
	case c.Compound.UnitsPerFloor < 1 || c.Compound.UnitsPerFloor > 99:
		return bad("compound.units_per_floor", c.Compound.UnitsPerFloor, "must be 1 to 99")
	case len(c.Compound.Regions) == 0 || len(c.Compound.Regions) > 60:
		return bad("compound.regions", len(c.Compound.Regions), "must list 1 to 60 regions")
	}
	for i, b := range c.Compound.Buildings {
		if b = strings.TrimSpace(b); b == "" || len(b) > 12 || strings.Contains(b, "-") {
			return bad(fmt.Sprintf("compound.buildings[%d]", i), fmt.Sprintf("%q", b), "must be 1-12 bytes without '-' (units are written building-room)")
		}
	}
	for i, r := range c.Compound.Regions {
		if r = strings.TrimSpace(r); r == "" || len(r) > 48 {
			return bad(fmt.Sprintf("compound.regions[%d]", i), fmt.Sprintf("%q", r), "must name a region (at most 48 bytes)")
		}
	}
	return nil
}

func oneOf(s string, set ...string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
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

// PassesDir is where the pass keys and status list files are read.
func (c Config) PassesDir() string {
	if c.Passes.Dir != "" {
		return c.Passes.Dir
	}
	return c.DataDir
}
