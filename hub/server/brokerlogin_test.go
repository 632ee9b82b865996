package server

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/link"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/internal/testkit"
)

func TestConfigValidateBrokerLogin(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string // "" for valid
	}{
		{Config{DataDir: "d", Broker: "tls://mq.example:8883"}, ""},
		{Config{DataDir: "d", Broker: "mqtts://mq.example:8883", BrokerCA: "ca.pem", BrokerUsername: "hub-2"}, ""},
		{Config{DataDir: "d", Broker: "ssl://10.0.0.1:8883", BrokerPasswordFile: "pw"}, ""},
		{Config{DataDir: "d", BrokerUsername: "gatepost-hub", BrokerPassword: "x"}, ""}, // the server's own, embedded
		{Config{DataDir: "d", Broker: "tls://u:p@h:8883"}, "--broker-password-file"},
		{Config{DataDir: "d", Broker: "tls://h:8883/x"}, "tls://HOST:PORT"},
		{Config{DataDir: "d", Broker: "tls://h"}, "tls://HOST:PORT"},
		{Config{DataDir: "d", Broker: "tcp://127.0.0.1:1883", BrokerCA: "ca.pem"}, `BrokerCA "ca.pem" is set but Broker "tcp://127.0.0.1:1883" is plain TCP`},
		{Config{DataDir: "d", BrokerCA: "ca.pem"}, "BrokerCA"},
		{Config{DataDir: "d", BrokerPasswordFile: "pw"}, "BrokerPasswordFile"},
		{Config{DataDir: "d", Broker: "tls://h:8883", BrokerPassword: "a", BrokerPasswordFile: "pw"}, "both set"},
		{Config{DataDir: "d", Broker: "tls://h:8883", BrokerUsername: "huamu-1/gate-1"}, "BrokerUsername"},
		{Config{DataDir: "d", Broker: "tls://h:8883", BrokerUsername: " hub"}, "BrokerUsername"},
	} {
		err := tc.cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Validate(%+v) = %v, want nil", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Validate(%+v) = %v, want an error with %q", tc.cfg, err, tc.want)
		}
	}
}

// With no login given, the hub logs in as datadir.HubUser with the data
// folder's own password: what `hub broker-config` writes for it.
func TestBrokerLoginDefaultsToTheDataFolders(t *testing.T) {
	data := t.TempDir()
	user, pw, err := datadir.Dir{Path: data}.BrokerLogin()
	if err != nil {
		t.Fatal(err)
	}
	l, err := Config{DataDir: data, Broker: "tcp://127.0.0.1:1883"}.brokerLogin()
	if err != nil || l.user != user || l.password != pw || l.tls != nil {
		t.Fatalf("brokerLogin = %q, %v, tls %v; want %q and the data folder's password, no TLS", l.user, err, l.tls, user)
	}
	l, err = Config{DataDir: data, Broker: "tls://127.0.0.1:8883", BrokerUsername: "hub-2"}.brokerLogin()
	if err != nil || l.user != "hub-2" || l.password != pw || l.tls == nil || l.tls.RootCAs != nil {
		t.Fatalf("brokerLogin(tls, hub-2) = %+v, %v; want hub-2, the same password, TLS on the system's roots", l, err)
	}
}

func TestBrokerPasswordFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, body string
		mode       os.FileMode
		want, err  string
	}{
		{"ok", "s3cret\n", 0o600, "s3cret", ""},
		{"crlf", "s3cret\r\n", 0o640, "s3cret", ""},
		{"world", "s3cret\n", 0o644, "", "chmod 600"},
		{"empty", "\n", 0o600, "", "is empty"},
		{"two", "a\nb\n", 0o600, "", "more than one line"},
	} {
		p := write(tc.name, tc.body, tc.mode)
		l, err := Config{DataDir: dir, Broker: "tcp://h:1883", BrokerPasswordFile: p}.brokerLogin()
		switch {
		case tc.err == "" && (err != nil || l.password != tc.want || l.user != datadir.HubUser):
			t.Errorf("%s: brokerLogin = %q/%q, %v; want %s/%q", tc.name, l.user, l.password, err, datadir.HubUser, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: brokerLogin = %v, want an error with %q", tc.name, err, tc.err)
		}
	}
	if _, err := (Config{DataDir: dir, Broker: "tcp://h:1883", BrokerPasswordFile: filepath.Join(dir, "missing")}).brokerLogin(); err == nil {
		t.Error("brokerLogin with a missing password file = nil error")
	}
	notPEM := write("ca.pem", "not a certificate", 0o644)
	if _, err := (Config{DataDir: dir, Broker: "tls://h:8883", BrokerPassword: "x", BrokerCA: notPEM}).brokerLogin(); err == nil ||
		!strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("brokerLogin with a CA file holding no certificate = %v", err)
	}
}

// A hub started with --broker tls://…, --broker-ca and a password file
// logs in to a broker that checks both, and subscribes.
func TestHubLogsInToAnExternalTLSBroker(t *testing.T) {
	tlsDir := t.TempDir()
	files, err := pki.Init(tlsDir, pki.Options{Names: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	hook := &credentialsHook{user: "gatepost-hub-ext", password: "ext-secret"}
	srv := mqtt.New(&mqtt.Options{})
	if err := srv.AddHook(hook, nil); err != nil {
		t.Fatal(err)
	}
	ln := testkit.Listen(t)
	if err := srv.AddListener(listeners.NewNet("tls", tls.NewListener(ln, files.ServerConfig()))); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	pwFile := filepath.Join(t.TempDir(), "broker-password")
	if err := os.WriteFile(pwFile, []byte("ext-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, Config{Broker: "tls://" + ln.Addr().String(), BrokerUsername: "gatepost-hub-ext",
		BrokerPasswordFile: pwFile, BrokerCA: filepath.Join(tlsDir, pki.Dir, pki.CACert)})
	select {
	case <-s.Subscribed():
	case <-time.After(deadline):
		t.Fatalf("the hub did not log in to the TLS broker (refused: %v)", hook.refusedUsers())
	}
}

// credentialsHook admits one login and everything it asks for.
type credentialsHook struct {
	mqtt.HookBase
	user, password string
	mu             sync.Mutex
	refused        []string
}

func (h *credentialsHook) ID() string { return "test-credentials" }

func (h *credentialsHook) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

func (h *credentialsHook) OnConnectAuthenticate(_ *mqtt.Client, pk packets.Packet) bool {
	if user := string(pk.Connect.Username); (user == h.user || user == h.user+link.IngestSuffix) && string(pk.Connect.Password) == h.password {
		return true
	}
	h.mu.Lock()
	h.refused = append(h.refused, string(pk.Connect.Username))
	h.mu.Unlock()
	return false
}

func (h *credentialsHook) OnACLCheck(*mqtt.Client, string, bool) bool { return true }

func (h *credentialsHook) refusedUsers() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.refused...)
}
