package server

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// File is the hub's config file, `hub serve --config hub.toml`: the same
// settings as the serve flags, which override it. See SampleFile.
type File struct {
	DataDir       string     `toml:"data_dir"`
	MQTTListen    string     `toml:"mqtt_listen"`
	MQTTSListen   string     `toml:"mqtts_listen"`
	AllowPlain    bool       `toml:"allow_plain_mqtt"`
	EnrollListen  string     `toml:"enroll_listen"`
	Advertise     string     `toml:"advertise_broker"`
	VerifyEvery   duration   `toml:"verify_every"`
	HTTPListen    string     `toml:"http_listen"`
	TLSCert       string     `toml:"tls_cert"`
	TLSKey        string     `toml:"tls_key"`
	BehindProxy   bool       `toml:"behind_proxy"`
	MetricsListen string     `toml:"metrics_listen"`
	SkewLimit     duration   `toml:"skew_limit"`
	SeqWindow     uint64     `toml:"seq_window"`
	PassesEvery   duration   `toml:"passes_every"`
	PassesRefresh duration   `toml:"passes_refresh"`
	Debug         bool       `toml:"debug"` // log every batch
	Broker        FileBroker `toml:"broker"`
}

// FileBroker is the [broker] table: an external broker and the hub's
// login on it. Left out, the hub runs its embedded broker.
type FileBroker struct {
	URL          string `toml:"url"`
	Username     string `toml:"username"`
	PasswordFile string `toml:"password_file"`
	CA           string `toml:"ca"`
	// Password is here only to refuse it with a sentence: a password
	// belongs in its own file, which can be kept 0600 while the config
	// file is shared and copied.
	Password string `toml:"password"`
}

// SampleFile is a commented hub.toml with the defaults.
const SampleFile = `# The hub's settings. Flags given to ` + "`hub serve`" + ` override these.
data_dir = "hub-data"              # relative paths are relative to this file
mqtt_listen = "127.0.0.1:1883"     # the embedded broker, plain MQTT: loopback only; "off" for none
# mqtts_listen = ":8883"           # MQTT over TLS; the default once ` + "`hub tls init`" + ` was run
# enroll_listen = ":8443"          # HTTPS for ` + "`kiosk enroll CODE`" + `; the default once ` + "`hub tls init`" + ` was run
# allow_plain_mqtt = false         # let mqtt_listen be off loopback (a network you trust only)
# advertise_broker = ""            # the broker URL enrolling kiosks are told; default tls://HOST:8883
# verify_every = "24h"             # how often the hub re-walks every stored chain (hub verify)
http_listen = "127.0.0.1:8081"     # the operators' console
# tls_cert = "console.crt"         # with tls_key: serve the console over HTTPS (Secure cookies, HSTS)
# tls_key = "console.key"
# behind_proxy = false             # a proxy on this machine terminates TLS: Secure cookies, X-Forwarded-For believed from loopback
# metrics_listen = "10.0.0.5:9108" # /metrics without sign-in on their own address (private network); default: on the console's port with an admin's API token
skew_limit = "30s"                 # flag kiosks whose clock is further off
seq_window = 1000000               # refuse a batch this far beyond the highest sequence held
passes_every = "15s"               # how often to look for pass changes to send
passes_refresh = "6h"              # re-send an unchanged status list this often
debug = false                      # log every batch

# An external broker (Mosquitto, EMQX): leave the table out to run the
# embedded one. ` + "`hub broker-config mosquitto`" + ` writes Mosquitto's files.
# [broker]
# url = "tls://mq.example.org:8883"    # tcp:// or tls:// (mqtts://, ssl://)
# username = "gatepost-hub"            # the default
# password_file = "broker-password"    # one line, chmod 600; default: the data folder's own
# ca = "hub-data/tls/ca.crt"           # the CA of the broker's certificate; default: the system's
`

// LoadFile reads a hub config file. Relative paths in it are relative to
// the file's folder, not to wherever the hub is started.
func LoadFile(path string) (File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("read config: %w", err)
	}
	f, err := ParseFile(data)
	if err != nil {
		return File{}, fmt.Errorf("%s: %w", path, err)
	}
	base := filepath.Dir(path)
	for _, p := range []*string{&f.DataDir, &f.Broker.PasswordFile, &f.Broker.CA, &f.TLSCert, &f.TLSKey} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	return f, nil
}

// ParseFile decodes a hub config file strictly (an unknown key is an
// error, not ignored) and checks every setting, naming the key at fault.
func ParseFile(data []byte) (File, error) {
	var f File
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) {
			return File{}, fmt.Errorf("unknown key (see `hub serve --sample-config` for the keys):\n%s", strict.String())
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return File{}, fmt.Errorf("line %d, column %d: %s", row, col, de.Error())
		}
		return File{}, err
	}
	if f.Broker.Password != "" {
		return File{}, errors.New("broker.password: keep the hub's broker password in a file of its own (chmod 600) and name it with broker.password_file")
	}
	c := f.Config()
	if c.DataDir == "" {
		c.DataDir = "." // the --data flag's default stands in; checked where it is known
	}
	if err := c.Validate(); err != nil {
		return File{}, err
	}
	return f, nil
}

// Config is the file's settings as a Config; unset ones stay empty, for
// their defaults.
func (f File) Config() Config {
	return Config{
		DataDir:            f.DataDir,
		MQTTListen:         f.MQTTListen,
		MQTTSListen:        f.MQTTSListen,
		AllowPlainMQTT:     f.AllowPlain,
		EnrollListen:       f.EnrollListen,
		AdvertiseBroker:    f.Advertise,
		VerifyEvery:        time.Duration(f.VerifyEvery),
		HTTPListen:         f.HTTPListen,
		TLSCert:            f.TLSCert,
		TLSKey:             f.TLSKey,
		BehindProxy:        f.BehindProxy,
		MetricsListen:      f.MetricsListen,
		Broker:             f.Broker.URL,
		BrokerUsername:     f.Broker.Username,
		BrokerPasswordFile: f.Broker.PasswordFile,
		BrokerCA:           f.Broker.CA,
		SkewLimit:          time.Duration(f.SkewLimit),
		SeqWindow:          f.SeqWindow,
		PassesEvery:        time.Duration(f.PassesEvery),
		PassesRefresh:      time.Duration(f.PassesRefresh),
	}
}

// duration is a TOML string such as "30s" or "1m30s".
type duration time.Duration

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"30s\" or \"1m\"", b)
	}
	*d = duration(v)
	return nil
}
