package broker

import (
	"bytes"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/gatepost/gatepost/internal/mochi"
	"github.com/gatepost/gatepost/internal/testkit"
)

// A publish over the broker's packet limit is refused, its connection
// closed, and counted by Oversize with the login it came from; a publish
// within the limit is not counted.
func TestOversizeCountsPacketsTooLarge(t *testing.T) {
	t.Parallel()
	const limit = 4 << 10
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = limit
	srv := mqtt.New(&mqtt.Options{Capabilities: caps, Logger: slog.New(slog.DiscardHandler)})
	var mu sync.Mutex
	var refused []string
	over := &Oversize{Refused: func(user, id string) {
		mu.Lock()
		defer mu.Unlock()
		refused = append(refused, user+" "+id)
	}}
	for _, h := range []mqtt.Hook{new(auth.AllowHook), over} {
		if err := srv.AddHook(h, nil); err != nil {
			t.Fatal(err)
		}
	}
	mln := mochi.Listen(ln)
	if err := srv.AddListener(listeners.NewNet("test", mln)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mochi.Close(srv, mln) })

	lost := make(chan struct{})
	c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + ln.Addr().String()).
		SetClientID("huamu-1/gate-1").SetUsername("huamu-1/gate-1").SetPassword("secret").
		SetAutoReconnect(false).SetConnectTimeout(wait).
		SetConnectionLostHandler(func(paho.Client, error) { close(lost) }))
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(250) })

	small := c.Publish("gatepost/v1/huamu-1/gate-1/entries", 1, false, bytes.Repeat([]byte("x"), limit/2))
	if !small.WaitTimeout(wait) || small.Error() != nil {
		t.Fatalf("publish within the limit: %v", small.Error())
	}
	if n := over.Count(); n != 0 {
		t.Fatalf("Count after a publish within the limit = %d, want 0", n)
	}
	c.Publish("gatepost/v1/huamu-1/gate-1/entries", 1, false, bytes.Repeat([]byte("x"), 2*limit))
	select {
	case <-lost:
	case <-time.After(wait):
		t.Fatal("the broker kept the connection of a client that sent a packet over its limit")
	}
	testkit.Eventually(t, "the oversize packet counted", func() bool { return over.Count() == 1 })
	mu.Lock()
	defer mu.Unlock()
	if len(refused) != 1 || refused[0] != "huamu-1/gate-1 huamu-1/gate-1" {
		t.Errorf("Refused told %q, want the client's login and id once", refused)
	}
}
