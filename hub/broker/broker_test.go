package broker

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/goleak"

	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testAccess admits the hub as "hub" and kiosk huamu-1/gate-1 with secret "k".
func testAccess() *Closed {
	return &Closed{HubUser: "hub", HubSecret: "hub-secret",
		Kiosk: func(_ context.Context, user, secret string) (string, string, bool) {
			return "huamu-1", "gate-1", user == "huamu-1/gate-1" && secret == "k"
		}}
}

const wait = 5 * time.Second

func start(tb testing.TB, listen string) *Broker {
	tb.Helper()
	b, err := Start(tb.Context(), Config{Listen: listen, Access: testAccess()})
	if err != nil {
		tb.Fatalf("Start(%q): %v", listen, err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}

// connect returns a connected paho client that disconnects at the end.
func connect(tb testing.TB, url, id string) paho.Client {
	tb.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(id).SetUsername("hub").SetPassword("hub-secret").
		SetAutoReconnect(false).SetConnectTimeout(wait))
	tok := c.Connect()
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		tb.Fatalf("connect %s to %s: timed out or %v", id, url, tok.Error())
	}
	tb.Cleanup(func() { c.Disconnect(250) })
	return c
}

func TestStartReportsBoundAddress(t *testing.T) {
	t.Parallel()
	for _, listen := range []string{"127.0.0.1:0", ":0"} {
		b := start(t, listen)
		host, port, err := net.SplitHostPort(b.Addr())
		if err != nil || port == "0" {
			t.Errorf("Start(%q).Addr() = %q, want a bound port", listen, b.Addr())
		}
		want := fmt.Sprintf("tcp://127.0.0.1:%s", port)
		if b.URL() != want {
			t.Errorf("Start(%q).URL() = %q (host %q), want %q", listen, b.URL(), host, want)
		}
	}
}

func TestRetainedMessageReachesLateSubscriber(t *testing.T) {
	t.Parallel()
	b := start(t, "127.0.0.1:0")
	pub := connect(t, b.URL(), "pub")
	tok := pub.Publish("gatepost/v1/s/k/ack", 1, true, []byte("hello"))
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("publish: timed out or %v", tok.Error())
	}

	// mochi acks a publish before it hands it to the subscribers, so a
	// subscription made in between may also get it live (retained=false),
	// before or after the retained copy: wait for the retained one.
	got := make(chan string, 4)
	sub := connect(t, b.URL(), "sub")
	tok = sub.Subscribe("gatepost/v1/+/+/ack", 1, func(_ paho.Client, m paho.Message) {
		select {
		case got <- fmt.Sprintf("%s %s retained=%v", m.Topic(), m.Payload(), m.Retained()):
		default:
		}
	})
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("subscribe: timed out or %v", tok.Error())
	}
	const want, live = "gatepost/v1/s/k/ack hello retained=true", "gatepost/v1/s/k/ack hello retained=false"
	timeout := time.After(wait)
	for {
		select {
		case msg := <-got:
			switch msg {
			case want:
				return
			case live:
				continue
			}
			t.Fatalf("received %q, want %q", msg, want)
		case <-timeout:
			t.Fatal("no retained message within 5s")
		}
	}
}

func TestCloseStopsListening(t *testing.T) {
	t.Parallel()
	b := start(t, "127.0.0.1:0")
	connect(t, b.URL(), "c1")
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", b.Addr(), wait); err == nil {
		conn.Close()
		t.Errorf("dial %s after Close succeeded, want refused", b.Addr())
	}
}

func TestStartFailsOnBusyPort(t *testing.T) {
	t.Parallel()
	b := start(t, "127.0.0.1:0")
	_, err := Start(t.Context(), Config{Listen: b.Addr(), Access: testAccess()})
	if err == nil || !strings.Contains(err.Error(), "start broker") {
		t.Errorf("Start(busy %s) = %v, want a start broker error", b.Addr(), err)
	}
}

func TestStartRefusesWithoutAnAccessRule(t *testing.T) {
	if b, err := Start(t.Context(), Config{Listen: "127.0.0.1:0"}); err == nil {
		b.Close()
		t.Fatal("a broker started with no access rule")
	}
}

func TestCutEndsAKiosksSessionAtOnce(t *testing.T) {
	t.Parallel()
	b := start(t, "127.0.0.1:0")
	k := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("huamu-1/gate-1").
		SetUsername("huamu-1/gate-1").SetPassword("k").SetAutoReconnect(false).SetConnectTimeout(wait))
	if tok := k.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("kiosk connect: %v", tok.Error())
	}
	defer k.Disconnect(0)
	connect(t, b.URL(), "gatepost-hub-1")
	testkit.Eventually(t, "the kiosk is listed as connected", func() bool {
		return slices.Equal(b.Connected(), []string{"huamu-1/gate-1"})
	})
	if n := b.Cut(map[string]bool{"huamu-1/gate-2": true}); n != 0 {
		t.Fatalf("Cut of another kiosk ended %d sessions", n)
	}
	if n := b.Cut(map[string]bool{"huamu-1/gate-1": true}); n != 1 {
		t.Fatalf("Cut ended %d sessions, want 1", n)
	}
	testkit.Eventually(t, "the cut kiosk is disconnected", func() bool { return !k.IsConnectionOpen() })
}

func TestTLSListenerServesOnlyTheRightCA(t *testing.T) {
	t.Parallel()
	dir, other := t.TempDir(), t.TempDir()
	files, err := pki.Init(dir, pki.Options{Names: []string{"127.0.0.1", "localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	otherFiles, err := pki.Init(other, pki.Options{Names: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Start(t.Context(), Config{TLSListen: "127.0.0.1:0", TLS: files.ServerConfig(), Access: testAccess()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Addr() != "" || !strings.HasPrefix(b.URL(), "tls://127.0.0.1:") {
		t.Fatalf("a TLS-only broker: Addr %q, URL %q", b.Addr(), b.URL())
	}
	dial := func(ca []byte) error {
		cfg, err := pki.ClientConfig(ca)
		if err != nil {
			t.Fatal(err)
		}
		c := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("gatepost-hub-tls").SetUsername("hub").
			SetPassword("hub-secret").SetTLSConfig(cfg).SetAutoReconnect(false).SetConnectTimeout(wait))
		tok := c.Connect()
		if !tok.WaitTimeout(wait) {
			return fmt.Errorf("timed out")
		}
		c.Disconnect(0)
		return tok.Error()
	}
	if err := dial(pemOf(files.CA)); err != nil {
		t.Fatalf("with the hub's CA: %v", err)
	}
	if err := dial(pemOf(otherFiles.CA)); err == nil {
		t.Fatal("a client trusting another CA connected")
	}
}

func pemOf(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
