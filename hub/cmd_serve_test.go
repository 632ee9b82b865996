package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/gatepost/gatepost/hub/server"
)

// serveConfig parses args as `hub serve` would and returns the settings.
func serveConfig(t *testing.T, args ...string) (server.Config, bool, error) {
	t.Helper()
	var sf serveFlags
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	sf.register(fs)
	data := fs.String("data", "./hub-data", "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return sf.config(fs, *data)
}

// Flags given on the command line override the config file; flags left
// at their defaults do not.
func TestServeConfigFileAndFlags(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hub.toml")
	body := `data_dir = "data"
http_listen = "0.0.0.0:8081"
skew_limit = "1m"
seq_window = 500
debug = true
[broker]
url = "tls://mq.example:8883"
username = "hub-a"
password_file = "pw"
ca = "ca.crt"
`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, debug, err := serveConfig(t, "--config", path)
	if err != nil {
		t.Fatal(err)
	}
	want := server.Config{DataDir: filepath.Join(dir, "data"), HTTPListen: "0.0.0.0:8081", SkewLimit: time.Minute, SeqWindow: 500,
		Broker: "tls://mq.example:8883", BrokerUsername: "hub-a", BrokerPasswordFile: filepath.Join(dir, "pw"), BrokerCA: filepath.Join(dir, "ca.crt")}
	if cfg != want || !debug {
		t.Errorf("from the file alone:\n got %+v, debug %v\nwant %+v, debug true", cfg, debug, want)
	}
	cfg, debug, err = serveConfig(t, "--config", path, "--data", "/srv/hub", "--seq-window", "7", "--broker-username", "hub-b",
		"--broker", "tcp://127.0.0.1:1884", "--broker-ca", "", "--debug=false")
	if err != nil {
		t.Fatal(err)
	}
	want.DataDir, want.SeqWindow, want.BrokerUsername, want.Broker, want.BrokerCA = "/srv/hub", 7, "hub-b", "tcp://127.0.0.1:1884", ""
	if cfg != want || debug {
		t.Errorf("with flags over the file:\n got %+v, debug %v\nwant %+v, debug false", cfg, debug, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("the merged settings do not validate: %v", err)
	}
	// Without --config, the flags and their defaults.
	cfg, _, err = serveConfig(t, "--broker-username", "x")
	if err != nil || cfg.DataDir != "./hub-data" || cfg.MQTTListen != server.DefaultMQTTListen || cfg.BrokerUsername != "x" {
		t.Errorf("flags alone = %+v, %v", cfg, err)
	}
	if _, _, err := serveConfig(t, "--config", filepath.Join(dir, "missing.toml")); err == nil {
		t.Error("a missing config file was not an error")
	}
}

// `hub serve --sample-config` prints a file that `--config` takes.
func TestServeSampleConfig(t *testing.T) {
	var out strings.Builder
	if err := run(t, t.Context(), &out, "serve", "--sample-config"); err != nil {
		t.Fatal(err)
	}
	if out.String() != server.SampleFile {
		t.Errorf("--sample-config printed %q", out.String())
	}
}
