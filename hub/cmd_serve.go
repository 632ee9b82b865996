package main

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/server"
)

func newServeCommand(data *hubData, stdout, stderr io.Writer) *cobra.Command {
	var cfg server.Config
	var debug bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the hub: MQTT broker (embedded unless --broker), ingest and the console",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.DataDir = data.path
			return serve(cmd, cfg, debug, stdout, stderr)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.MQTTListen, "mqtt-listen", server.DefaultMQTTListen, "TCP address of the embedded broker's plain MQTT, loopback only unless --allow-plain-mqtt (\"off\" for none)")
	f.StringVar(&cfg.MQTTSListen, "mqtts-listen", "", "TCP address of the embedded broker's MQTT over TLS (default "+server.DefaultMQTTSListen+" once `hub tls init` was run; \"off\" for none)")
	f.BoolVar(&cfg.AllowPlainMQTT, "allow-plain-mqtt", false, "let --mqtt-listen be off loopback: plain MQTT carries names and logins in clear text, for a network you trust only")
	f.StringVar(&cfg.HTTPListen, "http-listen", server.DefaultHTTPListen, "TCP address of the operators' console")
	f.StringVar(&cfg.Broker, "broker", "", "external MQTT broker URL, e.g. tcp://127.0.0.1:1884 (default: run the embedded broker)")
	f.DurationVar(&cfg.SkewLimit, "skew-limit", 30*time.Second, "flag kiosks whose clock is further off the hub's")
	f.Uint64Var(&cfg.SeqWindow, "seq-window", records.DefaultSeqWindow,
		"refuse a batch with a sequence number this far beyond the highest the hub holds for its kiosk")
	f.DurationVar(&cfg.PassesEvery, "passes-every", server.DefaultPassesEvery, "how often to look for pass changes (keys, revocations) to send to the kiosks")
	f.BoolVar(&debug, "debug", false, "log every batch")
	return cmd
}

// serve runs the hub until the command's context ends (a signal in main).
func serve(cmd *cobra.Command, cfg server.Config, debug bool, stdout, stderr io.Writer) error {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	s, err := server.Open(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	// One line on stdout, for scripts and supervisors to wait for.
	fmt.Fprintf(stdout, "hub ready broker=%s console=%s\n", s.BrokerURL(), s.ConsoleURL())
	return s.Run(cmd.Context())
}
