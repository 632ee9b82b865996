package link

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/testkit"
)

// loginHook is a broker that admits one username and password and
// remembers who tried, for the link's login tests.
type loginHook struct {
	mqtt.HookBase
	user, password string

	mu       sync.Mutex
	admitted []string // client ids
	refused  []string // usernames
}

func (h *loginHook) ID() string { return "test-login" }

func (h *loginHook) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

func (h *loginHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if user := string(pk.Connect.Username); (user != h.user && user != h.user+IngestSuffix) || string(pk.Connect.Password) != h.password {
		h.refused = append(h.refused, string(pk.Connect.Username))
		return false
	}
	h.admitted = append(h.admitted, cl.ID)
	return true
}

func (h *loginHook) OnACLCheck(*mqtt.Client, string, bool) bool { return true }

func (h *loginHook) seen() (admitted, refused []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.admitted...), append([]string(nil), h.refused...)
}

// tlsBroker serves mochi over TLS with the server certificate pki.Init
// made in a fresh data folder, admitting only gatepost-hub/hub-secret. It
// returns the broker's tls:// URL, the CA's PEM and a count of TLS
// handshakes begun.
func tlsBroker(t *testing.T) (string, []byte, *loginHook, *atomic.Int32) {
	t.Helper()
	data := t.TempDir()
	files, err := pki.Init(data, pki.Options{Names: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(data, pki.Dir, pki.CACert))
	if err != nil {
		t.Fatal(err)
	}
	hellos := new(atomic.Int32)
	serverCfg := files.ServerConfig()
	serverCfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) { hellos.Add(1); return nil, nil }
	hook := &loginHook{user: "gatepost-hub", password: "hub-secret"}
	b := testkit.StartBrokerWith(t, testkit.BrokerOptions{Hooks: []mqtt.Hook{hook}, TLS: serverCfg})
	return b.URL, caPEM, hook, hellos
}

func clientTLS(t *testing.T, caPEM []byte) *tls.Config {
	t.Helper()
	c, err := pki.ClientConfig(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The link logs in with its username and password over TLS, trusting the
// hub's own CA, under a client id of its own.
func TestLinkLogsInOverTLS(t *testing.T) {
	url, caPEM, hook, _ := tlsBroker(t)
	l := dial(t, Config{Broker: url, Username: "gatepost-hub", Password: "hub-secret", TLS: clientTLS(t, caPEM)})
	select {
	case <-l.Subscribed():
	case <-time.After(testkit.Wait):
		admitted, refused := hook.seen()
		t.Fatalf("not subscribed over TLS (admitted %v, refused %v)", admitted, refused)
	}
	admitted, _ := hook.seen()
	slices.Sort(admitted)
	if want := []string{l.ID(), l.ID() + IngestSuffix}; !slices.Equal(admitted, want) {
		t.Fatalf("the broker admitted %v, want the link's two ids %q once each", admitted, want)
	}
	// A second hub process (a replica) gets an id of its own, and no id
	// has the '/' that marks a kiosk's SITE/KIOSK.
	other := dial(t, Config{Broker: url, Username: "gatepost-hub", Password: "hub-secret", TLS: clientTLS(t, caPEM)})
	<-other.Subscribed()
	if other.ID() == l.ID() || strings.Contains(l.ID(), "/") || !strings.HasPrefix(l.ID(), "gatepost-hub-") {
		t.Errorf("client ids %q and %q: want two distinct gatepost-hub-… ids without '/'", l.ID(), other.ID())
	}
}

// A wrong password is refused and the link keeps trying, backing off; it
// never counts as connected.
func TestLinkWithAWrongPasswordIsRefused(t *testing.T) {
	url, caPEM, hook, _ := tlsBroker(t)
	clk := clock.NewFake(time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC))
	l := dial(t, Config{Broker: url, Username: "gatepost-hub", Password: "guess", TLS: clientTLS(t, caPEM), Clock: clk})
	testkit.Eventually(t, "the broker refuses the wrong password", func() bool { _, r := hook.seen(); return len(r) > 0 })
	testkit.Eventually(t, "the link backs off after the refusal", func() bool { return clk.Waiters() > 0 })
	if admitted, _ := hook.seen(); len(admitted) != 0 || l.Connected() {
		t.Fatalf("a wrong password got in: admitted %v, connected %v", admitted, l.Connected())
	}
}

// A broker whose certificate another CA signed is refused during the TLS
// handshake, before the link sends its password.
func TestLinkRefusesABrokerOfAnotherCA(t *testing.T) {
	url, _, hook, hellos := tlsBroker(t)
	_, otherCA, _, _ := tlsBroker(t)
	clk := clock.NewFake(time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC))
	l := dial(t, Config{Broker: url, Username: "gatepost-hub", Password: "hub-secret", TLS: clientTLS(t, otherCA), Clock: clk})
	testkit.Eventually(t, "a TLS handshake is begun and fails", func() bool { return hellos.Load() > 0 && clk.Waiters() > 0 })
	if admitted, refused := hook.seen(); len(admitted)+len(refused) != 0 || l.Connected() {
		t.Fatalf("the link reached MQTT through a certificate it must not trust: admitted %v, refused %v", admitted, refused)
	}
	// Without a CA the system's roots are trusted, and they do not
	// include the hub's private CA either.
	l2 := dial(t, Config{Broker: url, Username: "gatepost-hub", Password: "hub-secret", Clock: clk})
	testkit.Eventually(t, "a second handshake is begun", func() bool { return hellos.Load() > 1 })
	if admitted, _ := hook.seen(); len(admitted) != 0 || l2.Connected() {
		t.Fatalf("the system roots trusted the hub's private CA: admitted %v", admitted)
	}
}

// A TLS configuration with a plain tcp:// broker is a mistake that would
// send the password in clear: Dial refuses it.
func TestDialRefusesTLSConfigForPlainBroker(t *testing.T) {
	_, err := Dial(Config{Broker: "tcp://127.0.0.1:1883", TLS: &tls.Config{}})
	if err == nil || !strings.Contains(err.Error(), "tls://") {
		t.Fatalf("Dial(tcp:// with TLS) = %v, want an error pointing at tls://", err)
	}
}
