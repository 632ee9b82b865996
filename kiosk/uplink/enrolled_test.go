package uplink

import (
	"bytes"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/enrollment"
	"github.com/gatepost/gatepost/kiosk/enrollment/enrollmenttest"
	"github.com/gatepost/gatepost/protocol"
)

// kioskLogin is a mochi hook that admits gate-1 of site-1 only as the
// closed broker does (its username, its secret, and the username as the
// client id) and records each of its attempts; other clients (the
// test's stand-in hub and listeners) are let in.
type kioskLogin struct {
	mqtt.HookBase
	secret string

	mu       sync.Mutex
	accepted []string // client ids admitted as gate-1
	refused  []string
}

func (h *kioskLogin) ID() string { return "test-kiosk-login" }

func (h *kioskLogin) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck}, []byte{b})
}

func (h *kioskLogin) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	user, pass := string(pk.Connect.Username), string(pk.Connect.Password)
	if !strings.Contains(user+cl.ID, "gate-1") {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if user == "site-1/gate-1" && pass == h.secret && cl.ID == user {
		h.accepted = append(h.accepted, cl.ID)
		return true
	}
	h.refused = append(h.refused, cl.ID)
	return false
}

func (h *kioskLogin) OnACLCheck(*mqtt.Client, string, bool) bool { return true }

func (h *kioskLogin) counts() (accepted, refused []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.accepted...), append([]string(nil), h.refused...)
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// startBroker starts a mochi broker with hook on a loopback listener,
// serving TLS with cert when cert is not nil; it returns the broker's URL
// and the listener (to count connections).
func startBroker(t *testing.T, hook mqtt.Hook, cert *tls.Certificate) (string, *countingListener) {
	t.Helper()
	ln := &countingListener{Listener: testkit.Listen(t)}
	o := testkit.BrokerOptions{Hooks: []mqtt.Hook{hook}, Listener: ln}
	if cert != nil {
		o.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
	}
	return testkit.StartBrokerWith(t, o).URL, ln
}

// enrolledConfig is the uplink configuration the daemon makes from an
// enrollment.
func enrolledConfig(a protocol.EnrollAnswer) Config {
	key, _ := protocol.ParsePublicKeyText(a.DownlinkKey)
	return Config{Broker: a.Broker, Username: a.Username, Password: a.Secret, ClientID: a.Username, DownlinkKey: key,
		BatchSize: 10, MaxInFlight: 2, AckTimeout: 500 * time.Millisecond, BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond}
}

// An enrolled kiosk logs in with its enrollment's username and secret,
// and its username as the client id, and syncs; its presence still names
// its connection's session. A wrong secret is refused by the broker.
func TestEnrolledKioskLogsIn(t *testing.T) {
	hook := &kioskLogin{secret: strings.Repeat("k", 43)}
	url, _ := startBroker(t, hook, nil)
	testkit.StartHub(t, url, testkit.HubOptions{})
	var mu sync.Mutex
	var sessions []string
	listen(t, url, protocol.StatusTopic("site-1", "gate-1"), func(_ string, p []byte) {
		if s, err := protocol.DecodeStatus(p); err == nil && s.Online {
			mu.Lock()
			sessions = append(sessions, s.Session)
			mu.Unlock()
		}
	})
	j := openJournal(t)
	appendN(t, j, 5)
	u := start(t, enrolledConfig(enrollmenttest.Answer("site-1", "gate-1", url, nil)), j)
	waitSynced(t, j, 5)
	if accepted, refused := hook.counts(); len(accepted) != 1 || accepted[0] != "site-1/gate-1" || len(refused) != 0 {
		t.Fatalf("broker admitted %v, refused %v; want one login as site-1/gate-1", accepted, refused)
	}
	testkit.Eventually(t, "an online presence", func() bool { mu.Lock(); defer mu.Unlock(); return len(sessions) > 0 })
	mu.Lock()
	if sessions[0] != u.session || sessions[0] == "" {
		t.Errorf("presence session %q, want the uplink's %q", sessions[0], u.session)
	}
	mu.Unlock()

	wrong := enrolledConfig(enrollmenttest.Answer("site-1", "gate-1", url, nil))
	wrong.Password = strings.Repeat("x", 43)
	w := start(t, wrong, openJournal(t))
	testkit.Eventually(t, "the wrong secret refused twice", func() bool { _, r := hook.counts(); return len(r) >= 2 })
	if w.Online() {
		t.Error("an uplink with a wrong secret is online")
	}
}

// A tls:// broker is trusted by the enrollment's CA alone: the right CA
// connects; a broker whose certificate another CA signed is
// refused in the handshake, again and again, and never logged in to.
func TestTLSBrokerPinnedCA(t *testing.T) {
	ca := enrollmenttest.NewCA(t, "hub CA")
	other := enrollmenttest.NewCA(t, "someone else's CA")
	for _, tc := range []struct {
		name   string
		signer *enrollmenttest.CA
		ok     bool
	}{{"the pinned CA", nil, true}, {"another CA", other, false}} {
		t.Run(tc.name, func(t *testing.T) {
			hook := &kioskLogin{secret: strings.Repeat("k", 43)}
			signer := ca
			if tc.signer != nil {
				signer = tc.signer
			}
			cert := signer.Server(t, nil, "127.0.0.1")
			url, ln := startBroker(t, hook, &cert)
			a := enrollmenttest.Answer("site-1", "gate-1", url, ca)
			cfg := enrolledConfig(a)
			var err error
			if cfg.TLS, err = enrollment.TLSConfig(a, "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			j := openJournal(t)
			appendN(t, j, 3)
			u := start(t, cfg, j)
			if tc.ok {
				testkit.Eventually(t, "online over TLS", u.Online)
				return
			}
			testkit.Eventually(t, "three attempts", func() bool { return ln.n.Load() >= 3 })
			if accepted, _ := hook.counts(); u.Online() || len(accepted) != 0 {
				t.Fatalf("online %v, logins %v: the kiosk trusted a broker its CA did not sign", u.Online(), accepted)
			}
		})
	}
}
