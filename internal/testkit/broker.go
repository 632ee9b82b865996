package testkit

import (
	"log/slog"
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

// StartBroker starts a broker on a fresh loopback listener and closes it
// when the test ends.
func StartBroker(tb testing.TB) *Broker {
	tb.Helper()
	ln := Listen(tb)
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Logger: slog.New(slog.DiscardHandler)})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		tb.Fatal(err)
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
	return &Broker{URL: URL(ln), Server: srv}
}
