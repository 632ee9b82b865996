package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/hub/records"
)

// The sample is valid and says the defaults truthfully.
func TestSampleFileHoldsTheDefaults(t *testing.T) {
	f, err := ParseFile([]byte(SampleFile))
	if err != nil {
		t.Fatalf("ParseFile(SampleFile) = %v", err)
	}
	got := f.Config()
	got.DataDir = ""
	want := Config{MQTTListen: DefaultMQTTListen, HTTPListen: DefaultHTTPListen, SkewLimit: records.DefaultSkewLimit,
		SeqWindow: records.DefaultSeqWindow, PassesEvery: DefaultPassesEvery, PassesRefresh: DefaultPassesRefresh}
	if got != want {
		t.Errorf("SampleFile's settings = %+v, want the defaults %+v", got, want)
	}
	// Uncommenting the [broker] table gives a valid external broker.
	uncommented := strings.NewReplacer("# [broker]", "[broker]", "# url", "url", "# username", "username",
		"# password_file", "password_file", "# ca", "ca").Replace(SampleFile)
	if f, err = ParseFile([]byte(uncommented)); err != nil || f.Broker.URL != "tls://mq.example.org:8883" || f.Broker.CA == "" {
		t.Fatalf("the sample with [broker] uncommented: %+v, %v", f.Broker, err)
	}
}

func TestParseFileRefusesWithTheKeyAtFault(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"mqtt_listne = \"127.0.0.1:1883\"", "mqtt_listne"},
		{"[broker]\nuser = \"x\"", "user"},
		{"seq_window = \"many\"", "line 1"},
		{"seq_window = -1", "line 1"},
		{"\nskew_limit = \"5 minutes\"", `"5 minutes" is not a duration`},
		{"skew_limit = \"-5s\"", "skew_limit in the config file"},
		{"passes_refresh = \"-1h\"", "passes_refresh in the config file"},
		{"mqtt_listen = \"1883\"", "mqtt_listen in the config file"},
		{"[broker]\nurl = \"ws://h:80\"", "broker.url in the config file"},
		{"[broker]\nurl = \"tls://hub:pw@h:8883\"", "broker.password_file"},
		{"[broker]\nurl = \"tls://h:8883\"\npassword = \"pw\"", "broker.password: keep"},
		{"[broker]\nurl = \"tcp://127.0.0.1:1883\"\nca = \"ca.crt\"", "plain TCP"},
		{"[broker]\nca = \"ca.crt\"", "broker.ca in the config file"},
		{"[broker]\nurl = \"tls://h:8883\"\nusername = \"a/b\"", "broker.username in the config file"},
		{"data_dir = [1]", "line 1"},
		{"= 1", "line 1"},
	} {
		_, err := ParseFile([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFile(%q) = %v, want an error with %q", tc.in, err, tc.want)
		}
	}
}

// Paths in the file are relative to the file; absolute ones stay.
func TestLoadFileResolvesPathsAgainstTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hub.toml")
	body := "data_dir = \"data\"\n[broker]\nurl = \"tls://h:8883\"\npassword_file = \"pw\"\nca = \"/etc/ca.crt\"\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.DataDir != filepath.Join(dir, "data") || f.Broker.PasswordFile != filepath.Join(dir, "pw") || f.Broker.CA != "/etc/ca.crt" {
		t.Errorf("LoadFile paths = %q, %q, %q", f.DataDir, f.Broker.PasswordFile, f.Broker.CA)
	}
	if _, err := LoadFile(filepath.Join(dir, "missing.toml")); err == nil {
		t.Error("LoadFile(missing) = nil error")
	}
	if err := os.WriteFile(path, []byte("bogus = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("LoadFile(bad) = %v, want an error naming %s", err, path)
	}
}

func FuzzParseFile(f *testing.F) {
	f.Add(SampleFile)
	f.Add("[broker]\nurl = \"tls://h:8883\"\npassword_file = \"pw\"\nca = \"ca.crt\"\n")
	f.Add("seq_window = 5\nskew_limit = \"1m\"")
	f.Add("[broker]\nurl = \"tcp://u@h:1\"")
	f.Fuzz(func(t *testing.T, s string) {
		file, err := ParseFile([]byte(s))
		if err != nil {
			return
		}
		c := file.Config()
		if c.DataDir == "" {
			c.DataDir = "."
		}
		if verr := c.Validate(); verr != nil {
			t.Fatalf("ParseFile accepted a file whose Config fails Validate: %v", verr)
		}
		if file.Broker.Password != "" {
			t.Fatal("ParseFile accepted a password in the file")
		}
	})
}
