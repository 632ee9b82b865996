package server

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/clock"
)

// Defaults for the listen addresses: loopback only, so a hub started
// without flags exposes nothing to the network.
const (
	DefaultMQTTListen = "127.0.0.1:1883"
	DefaultHTTPListen = "127.0.0.1:8081"
)

// Defaults for the pass feed (hub/passes.Feed).
const (
	DefaultPassesEvery   = passes.DefaultFeedEvery   // how often the pass store is looked at for changes
	DefaultPassesRefresh = passes.DefaultFeedRefresh // re-issue an unchanged status list this often
)

// Config is what a hub needs to run.
type Config struct {
	DataDir    string // the data folder (hub/datadir); created if missing
	MQTTListen string // embedded broker's plain TCP address; default DefaultMQTTListen; Off: none
	// MQTTSListen is the embedded broker's MQTT-over-TLS address; empty is
	// DefaultMQTTSListen once `hub tls init` was run, else off; Off: none.
	MQTTSListen string
	// AllowPlainMQTT lets MQTTListen be off loopback (a trusted network).
	AllowPlainMQTT bool
	Broker         string        // external broker URL, e.g. tcp://127.0.0.1:1884; empty runs the embedded broker
	HTTPListen     string        // console's TCP address; default DefaultHTTPListen
	SkewLimit      time.Duration // flag kiosks whose clock is further off; default records.DefaultSkewLimit
	// SeqWindow refuses a batch reaching further than this beyond the
	// highest sequence held for its kiosk; default records.DefaultSeqWindow.
	SeqWindow uint64
	// PassesEvery is how often the pass store is checked for changes to
	// publish; PassesRefresh how often an unchanged status list is
	// re-issued. Defaults DefaultPassesEvery, DefaultPassesRefresh.
	PassesEvery, PassesRefresh time.Duration
	Logger                     *slog.Logger // nil discards
	// Clock is given to the stores, the link's back-off, ingest and the
	// pass feed; nil is the wall clock.
	Clock clock.Clock
}

// withDefaults returns c with empty fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.MQTTListen == "" {
		c.MQTTListen = DefaultMQTTListen
	}
	if c.HTTPListen == "" {
		c.HTTPListen = DefaultHTTPListen
	}
	if c.PassesEvery <= 0 {
		c.PassesEvery = DefaultPassesEvery
	}
	if c.PassesRefresh <= 0 {
		c.PassesRefresh = DefaultPassesRefresh
	}
	if c.SkewLimit <= 0 {
		c.SkewLimit = records.DefaultSkewLimit
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first bad field, naming it and its value. Empty
// fields that have defaults are valid.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.DataDir == "" {
		return fmt.Errorf("config: DataDir is empty: give the directory for the hub's data")
	}
	if c.Broker == "" {
		if c.MQTTListen != Off {
			if err := checkListen(c.MQTTListen); err != nil {
				return fmt.Errorf("config: MQTTListen %q: %w", c.MQTTListen, err)
			}
		}
		if err := checkPlain(c.MQTTListen, c.AllowPlainMQTT); err != nil {
			return fmt.Errorf("config: MQTTListen: %w", err)
		}
		if c.MQTTSListen != "" && c.MQTTSListen != Off {
			if err := checkListen(c.MQTTSListen); err != nil {
				return fmt.Errorf("config: MQTTSListen %q: %w", c.MQTTSListen, err)
			}
		}
	} else if err := checkBrokerURL(c.Broker); err != nil {
		return fmt.Errorf("config: Broker %q: %w", c.Broker, err)
	}
	if err := checkListen(c.HTTPListen); err != nil {
		return fmt.Errorf("config: HTTPListen %q: %w", c.HTTPListen, err)
	}
	return nil
}

func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port, e.g. 127.0.0.1:1883 (%v)", err)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

// checkBrokerURL accepts what the hub's client can dial today: plain TCP.
// TLS (ssl://, tls://) comes with enrollment.
func checkBrokerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	switch {
	case u.Scheme != "tcp" && u.Scheme != "mqtt":
		return fmt.Errorf("scheme must be tcp:// or mqtt://, got %q", u.Scheme)
	case u.Port() == "" || u.Hostname() == "":
		return fmt.Errorf("want tcp://HOST:PORT")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.User != nil:
		return fmt.Errorf("want only tcp://HOST:PORT, no path, query or credentials")
	}
	return checkListen(u.Host)
}
