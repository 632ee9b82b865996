package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// A kiosk's link dies silently and the kiosk reconnects on a new one
// before the broker notices. Before kiosks had logins, the broker
// published the old connection's last will ("offline") after the new
// connection said online (the hub ignores such a stale will: hub/ingest's
// tests). With the client id bound to the kiosk's login the broker takes
// the old session over at once. The hub must show the kiosk online, and a
// will of the current connection must still mark it offline. Real
// Mosquitto closed by the hub's registry, real hub.
func TestStaleWillAfterReconnect(t *testing.T) {
	t.Parallel()
	h := &hub{dataDir: t.TempDir(), httpListen: testkit.FreeAddr(t)}
	h.mosq = startMosquitto(t, h.dataDir)
	broker := h.mosq.url
	h.broker = broker
	login := h.kioskLogin(t, "site-1", "gate-1", broker)
	hubUser, hubPass := h.hubLogin(t)
	hp := h.start(t)
	defer hp.stop(t)
	topic := protocol.StatusTopic("site-1", "gate-1")
	status := func(online bool, session string) []byte {
		b, err := protocol.EncodeStatus(protocol.Status{Kiosk: "gate-1", Site: "site-1", Online: online, Session: session})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// What the broker publishes on the status topic, in order.
	var mu sync.Mutex
	var seen []protocol.Status
	watch := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID("gatepost-hub-watch").
		SetUsername(hubUser).SetPassword(hubPass))
	if tok := watch.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("watcher connect: %v", tok.Error())
	}
	defer watch.Disconnect(0)
	watch.Subscribe(topic, 1, func(_ mqtt.Client, m mqtt.Message) {
		if st, err := protocol.DecodeStatus(m.Payload()); err == nil {
			mu.Lock()
			seen = append(seen, st)
			mu.Unlock()
		}
	}).WaitTimeout(5 * time.Second)
	// The old connection has a short keep-alive, so that the broker notices
	// its frozen link in 1.5 s; the current one a long one, so that a
	// loaded machine cannot make it miss a ping and leave a will of its own.
	connect := func(name, url, session string, keepAlive time.Duration) mqtt.Client {
		t.Helper()
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID(login.Username).
			SetUsername(login.Username).SetPassword(login.Secret).
			SetKeepAlive(keepAlive).SetPingTimeout(keepAlive).SetAutoReconnect(false).
			SetBinaryWill(topic, status(false, session), 1, true))
		if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("%s connect: %v", name, tok.Error())
		}
		if tok := c.Publish(topic, 1, true, status(true, session)); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("%s online: %v", name, tok.Error())
		}
		return c
	}
	online := func() (bool, string) {
		for _, k := range fleet(t, h) {
			if k.Kiosk == "gate-1" {
				return k.Online, ""
			}
		}
		return false, "gate-1 not in the fleet"
	}
	px := startProxy(t, strings.TrimPrefix(broker, "tcp://"))
	old := connect("old", px.url(), "old1", time.Second)
	defer old.Disconnect(0)
	testkit.EventuallyState(t, 10*time.Second, "hub sees gate-1 online", online)

	px.freeze()
	px2 := startProxy(t, strings.TrimPrefix(broker, "tcp://"))
	cur := connect("new", px2.url(), "new2", time.Minute)
	defer cur.Disconnect(0)
	// The client id is the kiosk's login, so the broker ends the silent
	// session the moment the new one connects (a takeover) instead of
	// waiting for its keep-alive: any will of the old session comes
	// before the new one says online, never after.
	testkit.EventuallyState(t, 15*time.Second, "mosquitto took the session over and the new connection said online", func() (bool, string) {
		data, _ := os.ReadFile(filepath.Join(filepath.Dir(h.mosq.conf), "mosquitto.log"))
		mu.Lock()
		defer mu.Unlock()
		online := slices.ContainsFunc(seen, func(st protocol.Status) bool { return st.Online && st.Session == "new2" })
		return online && strings.Contains(string(data), "already connected, closing old connection"),
			fmt.Sprintf("online seen %v", online)
	})
	testkit.EventuallyState(t, 10*time.Second, "hub sees gate-1 online", online)
	mu.Lock()
	i := slices.IndexFunc(seen, func(st protocol.Status) bool { return st.Online && st.Session == "new2" })
	for _, later := range seen[i+1:] {
		if !later.Online {
			t.Errorf("an offline status (session %q) came after the new connection's online", later.Session)
		}
	}
	mu.Unlock()

	px2.cut() // the current connection dies: its will is current
	testkit.EventuallyState(t, 10*time.Second, "hub sees gate-1 offline", func() (bool, string) {
		on, why := online()
		return !on, why
	})
}
