package server

import (
	"cmp"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/link"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/backoff"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/sdnotify"
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
	// EnrollListen is the HTTPS enrollment listener's address; empty is
	// DefaultEnrollListen once `hub tls init` was run, else off; Off: none.
	EnrollListen string
	// VerifyEvery is how often the hub re-walks every stored chain by
	// itself (`hub verify`); default DefaultVerifyEvery.
	VerifyEvery time.Duration
	// AdvertiseBroker is the broker URL enrollment answers give kiosks;
	// empty: tls://HOST:PORT of the embedded broker's TLS listener (HOST
	// the name the kiosk reached the hub by), or Broker when external.
	AdvertiseBroker string
	// Broker is an external broker's URL, tcp://HOST:PORT or, for TLS,
	// tls://HOST:PORT (mqtts:// and ssl:// are the same); empty runs the
	// embedded broker.
	Broker string
	// BrokerUsername is the hub's login on the broker; default
	// datadir.HubUser. The password is BrokerPassword, else the one line
	// of BrokerPasswordFile, else the data folder's own broker password
	// (datadir.BrokerLogin): the one `hub broker-config` writes into the
	// broker's password file, so that the two agree with no flag. The
	// hub's second connection (batches, back-pressured) logs in as
	// BrokerUsername + "-ingest" with the same password (hub/link).
	BrokerUsername, BrokerPassword, BrokerPasswordFile string
	// IngestGroup bounds how many batches share one commit (hub/ingest's
	// GroupBatches); 0 is the default, 1 one transaction per batch.
	// IngestHoldFor is how long a batch waits for room in ingest's full
	// queue before it is dropped (hub/link's HoldFor; negative: at once).
	// IngestGroupEntries bounds, roughly, how many entries share one
	// commit (hub/ingest's GroupEntries; 0: the default).
	// IngestGroupWait is how long a group that is not full waits for more
	// batches before it commits (hub/ingest's GroupWait; 0: the default,
	// negative: none).
	// They are for the fleet benchmark's comparisons with the hub before
	// group commit and back-pressure and between group waits; a
	// deployment leaves them unset.
	IngestGroup        int
	IngestHoldFor      time.Duration
	IngestGroupWait    time.Duration
	IngestGroupEntries int
	// BrokerCA is a PEM file of the CA that an external tls:// broker's
	// certificate must chain to; empty trusts the system's roots.
	BrokerCA   string
	HTTPListen string // console's TCP address; default DefaultHTTPListen
	// TLSCert and TLSKey are PEM files: given, the console is served over
	// HTTPS (Secure cookies, Strict-Transport-Security).
	TLSCert, TLSKey string
	// BehindProxy says a reverse proxy on this machine terminates TLS:
	// cookies are Secure, and X-Forwarded-For from loopback names the
	// client (for the sign-in limiter and the audit log).
	BehindProxy bool
	// MetricsListen serves /metrics on an address of its own, without
	// sign-in (Prometheus on a private network), and not on the console's
	// port; empty: /metrics on the console's port, with an admin's API
	// token.
	MetricsListen string
	SkewLimit     time.Duration // flag kiosks whose clock is further off; default records.DefaultSkewLimit
	// NoChain turns batch signatures and the entry chain off (nothing
	// hashed, stored or checked): for the benchmark of what they cost
	// (bench -only chaincost) alone. No flag or file sets it.
	NoChain bool
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
	// Notify is told READY=1 and fed systemd's watchdog by Run (ready.go);
	// nil tells no service manager anything.
	Notify *sdnotify.Notifier
	// Replicas says this hub is one of several sharing one PostgreSQL
	// database and one external broker (docs/scale.md, Replicas): the
	// kiosks' messages arrive through the shared subscription ShareGroup,
	// the broker login and client ids name ReplicaID, and the once-only
	// jobs run where the database's lease says. It refuses the embedded
	// broker.
	Replicas bool
	// ReplicaID names this replica: with Replicas, in its broker login and
	// client ids (BrokerUsername-ReplicaID); and in the name of its
	// connections holding the once-only jobs' leases (pg_stat_activity).
	// Default: the host name.
	ReplicaID string
	// ShareGroup is the shared subscription's group; default
	// DefaultShareGroup with Replicas. Every replica of one hub gives the
	// same.
	ShareGroup string
	// Database is the PostgreSQL URL (--database, $GATEPOST_DATABASE)
	// that holds the hub's state instead of the SQLite files in DataDir,
	// and on which replicas take the once-only jobs' leases
	// (hub/leader.Postgres). Empty: SQLite, and this hub always runs the
	// jobs (leader.Alone).
	Database string
}

// DefaultShareGroup is the shared subscription's group with Replicas.
const DefaultShareGroup = "gatepost-hub"

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
	if c.Replicas {
		c.ShareGroup = cmp.Or(c.ShareGroup, DefaultShareGroup)
	}
	if c.ReplicaID == "" {
		c.ReplicaID, _ = os.Hostname()
	}
	return c
}

// Validate reports the first bad field, naming it, its value, its flag
// and its key in the config file, and what is wanted. Empty fields that
// have defaults are valid.
func (c Config) Validate() error {
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"SkewLimit", c.SkewLimit}, {"PassesEvery", c.PassesEvery}, {"PassesRefresh", c.PassesRefresh}} {
		if d.v < 0 {
			return fmt.Errorf("config: %s %v %s: want a positive duration such as 30s, or none for the default", d.field, d.v, where(d.field))
		}
	}
	c = c.withDefaults()
	if c.DataDir == "" {
		return fmt.Errorf("config: DataDir is empty %s: give the directory for the hub's data", where("DataDir"))
	}
	if c.Broker == "" {
		if c.MQTTListen != Off {
			if err := checkListen(c.MQTTListen); err != nil {
				return fmt.Errorf("config: MQTTListen %q %s: %w", c.MQTTListen, where("MQTTListen"), err)
			}
		}
		if err := checkPlain(c.MQTTListen, c.AllowPlainMQTT); err != nil {
			return fmt.Errorf("config: MQTTListen %s: %w", where("MQTTListen"), err)
		}
		if c.MQTTSListen != "" && c.MQTTSListen != Off {
			if err := checkListen(c.MQTTSListen); err != nil {
				return fmt.Errorf("config: MQTTSListen %q %s: %w", c.MQTTSListen, where("MQTTSListen"), err)
			}
		}
	} else if err := checkBrokerURL(c.Broker); err != nil {
		return fmt.Errorf("config: Broker %q %s: %w", c.Broker, where("Broker"), err)
	} else if backoff.InClear(c.Broker) && !c.AllowPlainMQTT {
		return fmt.Errorf("config: Broker %q %s: plain MQTT off this machine would carry the hub's password and every visitor's name in clear text: "+
			"use tls:// (with --broker-ca), or pass --allow-plain-mqtt on a network you trust", c.Broker, where("Broker"))
	}
	if err := c.checkBrokerLogin(); err != nil {
		return err
	}
	if err := c.checkReplicas(); err != nil {
		return err
	}
	if err := checkListen(c.HTTPListen); err != nil {
		return fmt.Errorf("config: HTTPListen %q %s: %w", c.HTTPListen, where("HTTPListen"), err)
	}
	return c.checkWeb()
}

// checkWeb checks the console's TLS and the metrics' listener.
func (c Config) checkWeb() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("config: TLSCert %q and TLSKey %q %s: give both, the certificate and its key, or neither", c.TLSCert, c.TLSKey, where("TLSCert"))
	}
	if c.MetricsListen != "" {
		if err := checkListen(c.MetricsListen); err != nil {
			return fmt.Errorf("config: MetricsListen %q %s: %w", c.MetricsListen, where("MetricsListen"), err)
		}
		if _, port, _ := net.SplitHostPort(c.MetricsListen); c.MetricsListen == c.HTTPListen && port != "0" {
			return fmt.Errorf("config: MetricsListen %q %s is the console's address: give another port, or none to serve /metrics on the console's port with a token", c.MetricsListen, where("MetricsListen"))
		}
	}
	return nil
}

// settings names each field's flag on `hub serve` and key in the config
// file, so that an error points at whichever the operator wrote.
var settings = map[string][2]string{
	"DataDir":            {"--data", "data_dir"},
	"MQTTListen":         {"--mqtt-listen", "mqtt_listen"},
	"MQTTSListen":        {"--mqtts-listen", "mqtts_listen"},
	"AllowPlainMQTT":     {"--allow-plain-mqtt", "allow_plain_mqtt"},
	"EnrollListen":       {"--enroll-listen", "enroll_listen"},
	"AdvertiseBroker":    {"--advertise-broker", "advertise_broker"},
	"VerifyEvery":        {"--verify-every", "verify_every"},
	"HTTPListen":         {"--http-listen", "http_listen"},
	"TLSCert":            {"--tls-cert/--tls-key", "tls_cert/tls_key"},
	"TLSKey":             {"--tls-key", "tls_key"},
	"BehindProxy":        {"--behind-proxy", "behind_proxy"},
	"MetricsListen":      {"--metrics-listen", "metrics_listen"},
	"Broker":             {"--broker", "broker.url"},
	"BrokerUsername":     {"--broker-username", "broker.username"},
	"BrokerPassword":     {"", ""},
	"BrokerPasswordFile": {"--broker-password-file", "broker.password_file"},
	"BrokerCA":           {"--broker-ca", "broker.ca"},
	"SkewLimit":          {"--skew-limit", "skew_limit"},
	"SeqWindow":          {"--seq-window", "seq_window"},
	"PassesEvery":        {"--passes-every", "passes_every"},
	"PassesRefresh":      {"", "passes_refresh"},
	"Replicas":           {"--replicas", ""},
	"ReplicaID":          {"--replica-id", ""},
	"ShareGroup":         {"--share-group", ""},
	"Database":           {"--database", ""},
}

func where(field string) string {
	s := settings[field]
	switch {
	case s[0] != "" && s[1] != "":
		return "(" + s[0] + ", or " + s[1] + " in the config file)"
	case s[1] != "":
		return "(" + s[1] + " in the config file)"
	case s[0] != "":
		return "(" + s[0] + ")"
	}
	return ""
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

// checkBrokerURL accepts what the hub's client can dial: plain TCP
// (tcp://, mqtt://) and TLS (tls://, mqtts://, ssl://), host and port
// only. Credentials never go in the URL, which is logged and shown.
func checkBrokerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	switch {
	case u.User != nil:
		return fmt.Errorf("the URL holds credentials, and URLs are logged: give the username with --broker-username and the password in a file named by --broker-password-file (or broker.username and broker.password_file in the config file)")
	case u.Scheme != "tcp" && u.Scheme != "mqtt" && !backoff.SchemeTLS(u.Scheme):
		return fmt.Errorf("scheme must be tcp:// or mqtt:// (plain) or tls://, mqtts:// or ssl:// (TLS), got %q", u.Scheme)
	case u.Port() == "" || u.Hostname() == "":
		return fmt.Errorf("want %s://HOST:PORT", u.Scheme)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "":
		return fmt.Errorf("want only %s://HOST:PORT, no path or query", u.Scheme)
	}
	return checkListen(u.Host)
}

// checkBrokerLogin checks the hub's own broker login settings.
func (c Config) checkBrokerLogin() error {
	switch {
	case c.Broker == "" && c.BrokerPasswordFile != "":
		return fmt.Errorf("config: BrokerPasswordFile %q %s is for an external broker (--broker, or broker.url); the embedded broker uses the hub's own login from the data folder",
			c.BrokerPasswordFile, where("BrokerPasswordFile"))
	case c.Broker == "" && c.BrokerCA != "":
		return fmt.Errorf("config: BrokerCA %q %s is for an external tls:// broker (--broker, or broker.url); the embedded broker's TLS comes from `hub tls init`",
			c.BrokerCA, where("BrokerCA"))
	case c.BrokerPassword != "" && c.BrokerPasswordFile != "":
		return fmt.Errorf("config: BrokerPassword and BrokerPasswordFile %q are both set: give one", c.BrokerPasswordFile)
	case strings.ContainsAny(c.BrokerUsername, "/+#:") || strings.TrimSpace(c.BrokerUsername) != c.BrokerUsername:
		return fmt.Errorf("config: BrokerUsername %q %s: want no '/', '+', '#', ':' or surrounding spaces (a '/' marks a kiosk's SITE/KIOSK login), or none for %s",
			c.BrokerUsername, where("BrokerUsername"), datadir.HubUser)
	case c.BrokerCA != "" && !brokerTLS(c.Broker):
		return fmt.Errorf("config: BrokerCA %q is set but Broker %q is plain TCP, which would send the hub's password in clear: use tls://HOST:PORT", c.BrokerCA, c.Broker)
	}
	return nil
}

// brokerTLS reports whether an external broker URL asks for TLS.
func brokerTLS(broker string) bool {
	u, err := url.Parse(broker)
	return err == nil && backoff.SchemeTLS(u.Scheme)
}

// replicaName is what a replica id may hold: it goes into a broker
// username and MQTT client ids, and a database connection's name.
var replicaName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$`)

// checkReplicas checks the replica settings of a c with its defaults.
func (c Config) checkReplicas() error {
	if !c.Replicas {
		if c.ShareGroup != "" {
			return fmt.Errorf("config: ShareGroup %q %s is for replicas: add --replicas, or leave it out on a hub that is the only one", c.ShareGroup, where("ShareGroup"))
		}
		return nil
	}
	switch {
	case c.Broker == "":
		return fmt.Errorf("config: Replicas %s with the embedded broker: replicas share an external broker: the embedded one lives in one hub's process; give --broker mqtts://HOST:8883 (Mosquitto or EMQX, docs/scale.md)", where("Replicas"))
	case c.Database == "":
		return fmt.Errorf("config: Replicas %s without PostgreSQL: replicas share one PostgreSQL database for their state and to choose which of them runs the once-only jobs; give it with --database postgres://HOST/DB", where("Replicas"))
	case !replicaName.MatchString(c.ReplicaID):
		return fmt.Errorf("config: ReplicaID %q %s: want 1 to 40 letters, digits, '.', '_' or '-' (it names the replica's broker login), e.g. hub-2", c.ReplicaID, where("ReplicaID"))
	}
	if err := link.CheckShareGroup(c.ShareGroup); err != nil {
		return fmt.Errorf("config: ShareGroup %s: %w", where("ShareGroup"), err)
	}
	return nil
}

// ReplicaUser is the broker login of replica id of the hub whose login is
// user: user-id (its ingest connection adds link.IngestSuffix).
func ReplicaUser(user, id string) string { return user + "-" + id }

// CheckReplicaID refuses a replica id that cannot name a broker login.
func CheckReplicaID(id string) error {
	if !replicaName.MatchString(id) {
		return fmt.Errorf("replica id %q: want 1 to 40 letters, digits, '.', '_' or '-' (it names the replica's broker login), e.g. hub-2", id)
	}
	return nil
}

// replicaLink gives a replica's link its own broker login and client ids,
// BrokerUsername-ReplicaID (and -ingest): Mosquitto's
// use_username_as_clientid makes the username the client id, and two
// clients with one id take each other's session over. It also joins the
// share group. A hub that is the only one keeps its login as it was.
func (c Config) replicaLink(lc *link.Config) {
	if !c.Replicas {
		return
	}
	lc.Username = ReplicaUser(lc.Username, c.ReplicaID)
	lc.ClientID = lc.Username
	lc.ShareGroup = c.ShareGroup
}
