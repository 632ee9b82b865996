package main

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/server"
	"github.com/gatepost/gatepost/internal/logs"
	"github.com/gatepost/gatepost/internal/sdnotify"
)

// serveFlags are `hub serve`'s flags; with --config, those given on the
// command line override the file.
type serveFlags struct {
	cfg        server.Config
	debug      bool
	configPath string
	sample     bool
	logFormat  string
}

func newServeCommand(data *hubData, stdout, stderr io.Writer) *cobra.Command {
	var sf serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the hub: MQTT broker (embedded unless --broker), ingest and the console",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if sf.sample {
				_, err := io.WriteString(stdout, server.SampleFile)
				return err
			}
			cfg, debug, err := sf.config(cmd.Flags(), data.path)
			cfg.Database = data.database
			if err != nil {
				return err
			}
			return serve(cmd, cfg, debug, sf.logFormat, stdout, stderr)
		},
	}
	sf.register(cmd.Flags())
	return cmd
}

func (sf *serveFlags) register(f *pflag.FlagSet) {
	cfg := &sf.cfg
	f.StringVar(&sf.configPath, "config", "", "a hub.toml holding these settings (see --sample-config); flags given here override it")
	f.BoolVar(&sf.sample, "sample-config", false, "print a commented hub.toml with the defaults, and exit")
	f.StringVar(&cfg.MQTTListen, "mqtt-listen", server.DefaultMQTTListen, "TCP address of the embedded broker's plain MQTT, loopback only unless --allow-plain-mqtt (\"off\" for none)")
	f.StringVar(&cfg.MQTTSListen, "mqtts-listen", "", "TCP address of the embedded broker's MQTT over TLS (default "+server.DefaultMQTTSListen+" once `hub tls init` was run; \"off\" for none)")
	f.BoolVar(&cfg.AllowPlainMQTT, "allow-plain-mqtt", false, "let --mqtt-listen be off loopback: plain MQTT carries names and logins in clear text, for a network you trust only")
	f.StringVar(&cfg.EnrollListen, "enroll-listen", "", "TCP address of the HTTPS enrollment listener kiosks redeem their codes at (default "+server.DefaultEnrollListen+" once `hub tls init` was run; \"off\" for none)")
	f.DurationVar(&cfg.VerifyEvery, "verify-every", server.DefaultVerifyEvery, "how often the hub re-walks every stored chain by itself (as hub verify does)")
	f.StringVar(&cfg.AdvertiseBroker, "advertise-broker", "", "the broker URL enrolling kiosks are told to use (default: tls://HOST:PORT of the embedded broker, HOST being the name the kiosk reached the hub by; the --broker URL with an external broker)")
	f.StringVar(&cfg.HTTPListen, "http-listen", server.DefaultHTTPListen, "TCP address of the operators' console")
	f.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate (chain) for serving the console over HTTPS, with --tls-key (Secure cookies, HSTS)")
	f.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	f.BoolVar(&cfg.BehindProxy, "behind-proxy", false, "a reverse proxy on this machine terminates TLS for the console: cookies Secure, X-Forwarded-For believed from loopback only")
	f.StringVar(&cfg.MetricsListen, "metrics-listen", "", "serve /metrics without sign-in on this address of its own, for Prometheus on a private network (default: on the console's port, with an admin's API token)")
	f.StringVar(&cfg.Broker, "broker", "", "external MQTT broker URL, tcp://HOST:PORT or tls://HOST:PORT (default: run the embedded broker)")
	f.StringVar(&cfg.BrokerUsername, "broker-username", "", "the hub's username on the external broker (default gatepost-hub)")
	f.StringVar(&cfg.BrokerPasswordFile, "broker-password-file", "",
		"a file (chmod 600) holding the hub's password on the external broker, on one line (default: the data folder's own, which hub broker-config writes)")
	f.StringVar(&cfg.BrokerCA, "broker-ca", "", "PEM file of the CA that a tls:// broker's certificate is signed by (default: the system's roots)")
	f.DurationVar(&cfg.SkewLimit, "skew-limit", 30*time.Second, "flag kiosks whose clock is further off the hub's")
	f.Uint64Var(&cfg.SeqWindow, "seq-window", records.DefaultSeqWindow,
		"refuse a batch with a sequence number this far beyond the highest the hub holds for its kiosk")
	f.DurationVar(&cfg.PassesEvery, "passes-every", server.DefaultPassesEvery, "how often to look for pass changes (keys, revocations) to send to the kiosks")
	f.BoolVar(&cfg.Replicas, "replicas", false, "this hub is one of several replicas sharing one PostgreSQL database and one external broker (docs/scale.md, Replicas)")
	f.StringVar(&cfg.ReplicaID, "replica-id", "", "this replica's name, in its broker login (gatepost-hub-NAME) and to the other replicas (default: the host name)")
	f.StringVar(&cfg.ShareGroup, "share-group", "", "with --replicas, the MQTT shared subscription group the replicas share the kiosks' messages in (default "+server.DefaultShareGroup+")")
	f.BoolVar(&sf.debug, "debug", false, "log every batch")
	// The fleet benchmark's "before" run (go run ./bench -only fleet):
	// the hub as it was before group commit and back-pressure.
	f.IntVar(&cfg.IngestGroup, "ingest-group", 0, "at most this many batches share one commit (0: the default; 1: one transaction per batch)")
	f.DurationVar(&cfg.IngestHoldFor, "ingest-hold", 0, "a batch waits this long for room in ingest's full queue before it is dropped (0: the default; negative: dropped at once)")
	f.DurationVar(&cfg.IngestGroupWait, "ingest-group-wait", 0, "a group of batches that is not full waits this long for more before it commits (0: the default; negative: not at all)")
	_ = f.MarkHidden("ingest-group")
	f.IntVar(&cfg.IngestGroupEntries, "ingest-group-entries", 0, "about this many entries at most share one commit (0: the default, 2,048 on SQLite and 512 on PostgreSQL)")
	_ = f.MarkHidden("ingest-group-wait")
	_ = f.MarkHidden("ingest-group-entries")
	_ = f.MarkHidden("ingest-hold")
	f.StringVar(&sf.logFormat, "log-format", logs.Text, "log lines as "+logs.Formats+": json for journald and log shippers (the systemd units use it), auto for text on a terminal and JSON otherwise")
}

// config is the flags alone, or the config file with the flags given on
// the command line laid over it.
func (sf *serveFlags) config(flags *pflag.FlagSet, dataPath string) (server.Config, bool, error) {
	if sf.configPath == "" {
		cfg := sf.cfg
		cfg.DataDir = dataPath
		return cfg, sf.debug, nil
	}
	file, err := server.LoadFile(sf.configPath)
	if err != nil {
		return server.Config{}, false, err
	}
	cfg, debug := file.Config(), file.Debug
	if cfg.DataDir == "" {
		cfg.DataDir = dataPath // --data's default
	}
	override := map[string]func(){
		"data":                 func() { cfg.DataDir = dataPath },
		"mqtt-listen":          func() { cfg.MQTTListen = sf.cfg.MQTTListen },
		"mqtts-listen":         func() { cfg.MQTTSListen = sf.cfg.MQTTSListen },
		"allow-plain-mqtt":     func() { cfg.AllowPlainMQTT = sf.cfg.AllowPlainMQTT },
		"enroll-listen":        func() { cfg.EnrollListen = sf.cfg.EnrollListen },
		"advertise-broker":     func() { cfg.AdvertiseBroker = sf.cfg.AdvertiseBroker },
		"verify-every":         func() { cfg.VerifyEvery = sf.cfg.VerifyEvery },
		"http-listen":          func() { cfg.HTTPListen = sf.cfg.HTTPListen },
		"tls-cert":             func() { cfg.TLSCert = sf.cfg.TLSCert },
		"tls-key":              func() { cfg.TLSKey = sf.cfg.TLSKey },
		"behind-proxy":         func() { cfg.BehindProxy = sf.cfg.BehindProxy },
		"metrics-listen":       func() { cfg.MetricsListen = sf.cfg.MetricsListen },
		"broker":               func() { cfg.Broker = sf.cfg.Broker },
		"broker-username":      func() { cfg.BrokerUsername = sf.cfg.BrokerUsername },
		"broker-password-file": func() { cfg.BrokerPasswordFile = sf.cfg.BrokerPasswordFile },
		"broker-ca":            func() { cfg.BrokerCA = sf.cfg.BrokerCA },
		"skew-limit":           func() { cfg.SkewLimit = sf.cfg.SkewLimit },
		"seq-window":           func() { cfg.SeqWindow = sf.cfg.SeqWindow },
		"passes-every":         func() { cfg.PassesEvery = sf.cfg.PassesEvery },
		"replicas":             func() { cfg.Replicas = sf.cfg.Replicas },
		"replica-id":           func() { cfg.ReplicaID = sf.cfg.ReplicaID },
		"share-group":          func() { cfg.ShareGroup = sf.cfg.ShareGroup },
		"debug":                func() { debug = sf.debug },
	}
	flags.Visit(func(f *pflag.Flag) {
		if set, ok := override[f.Name]; ok {
			set()
		}
	})
	return cfg, debug, nil
}

// serve runs the hub until the command's context ends (a signal in main).
func serve(cmd *cobra.Command, cfg server.Config, debug bool, logFormat string, stdout, stderr io.Writer) error {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	log, err := logs.New(stderr, logFormat, level)
	if err != nil {
		return err
	}
	cfg.Logger = log
	cfg.Notify = sdnotify.FromEnv() // systemd's Type=notify and watchdog
	s, err := server.Open(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	// One line on stdout, for scripts and supervisors to wait for.
	fmt.Fprintf(stdout, "hub ready broker=%s console=%s", s.BrokerURL(), s.ConsoleURL())
	if addr := s.EnrollAddr(); addr != "" {
		fmt.Fprintf(stdout, " enroll=https://%s", addr)
	}
	fmt.Fprintln(stdout)
	return s.Run(cmd.Context())
}
