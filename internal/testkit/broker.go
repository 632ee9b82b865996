package testkit

import (
	"crypto/tls"
	"log/slog"
	"net"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/gatepost/gatepost/internal/mochi"
)

// Broker is an open MQTT broker (mochi, allowing everyone) for tests of
// clients: the kiosk's uplink, the demo. It serves on a listener the test
// owns, so its address is never raced for. The hub's own broker, with its
// access rules, is hub/broker; tests of access use that.
type Broker struct {
	URL    string // tcp://127.0.0.1:port
	Server *mqtt.Server
}

// StartBroker starts a broker on a fresh loopback listener that admits
// everyone, and closes it when the test ends.
func StartBroker(tb testing.TB) *Broker {
	tb.Helper()
	return StartBrokerWith(tb, BrokerOptions{})
}

// BrokerOptions change the test broker: Hooks replace the allow-all hook
// (an access hook of the test's own, or one that counts beside an
// allow-all the test adds), and TLS serves it over TLS (URL is tls://).
type BrokerOptions struct {
	Hooks []mqtt.Hook
	TLS   *tls.Config
	// Listener, if set, is served instead of a fresh one (the test may
	// wrap it, e.g. to count connections).
	Listener net.Listener
}

// StartBrokerWith starts a broker as o says and closes it when the test
// ends.
func StartBrokerWith(tb testing.TB, o BrokerOptions) *Broker {
	tb.Helper()
	ln := o.Listener
	if ln == nil {
		ln = Listen(tb)
	}
	url := URL(ln)
	if o.TLS != nil {
		url = "tls://" + ln.Addr().String()
		ln = tls.NewListener(ln, o.TLS)
	}
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Logger: slog.New(slog.DiscardHandler)})
	hooks := o.Hooks
	if len(hooks) == 0 {
		hooks = []mqtt.Hook{new(auth.AllowHook)}
	}
	for _, h := range hooks {
		if err := srv.AddHook(h, nil); err != nil {
			tb.Fatal(err)
		}
	}
	mln := mochi.Listen(ln)
	if err := srv.AddListener(listeners.NewNet("test", mln)); err != nil {
		tb.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		// Let the test's clients finish leaving before closing (bounded:
		// Close disconnects any still there; only the inline client
		// stays). A client cut off by the close instead would start
		// paho's reconnect, which sleeps a second where goleak sees it.
		deadline := time.Now().Add(5 * time.Second)
		for srv.Clients.Len() > 1 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond) // polling with a deadline
		}
		mochi.Close(srv, mln)
	})
	return &Broker{URL: url, Server: srv}
}
