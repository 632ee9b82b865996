package link

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"go.uber.org/goleak"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// TestMain fails on leaked goroutines, except paho's own: when the link
// closes while its client is between a lost connection and a new CONNACK,
// paho's reconnect waits on a socket it owns and Disconnect waits for that
// attempt; neither can be reached from outside paho, and both end with the
// process.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/eclipse/paho%2emqtt%2egolang.(*client).reconnect"),
		goleak.IgnoreAnyFunction("github.com/eclipse/paho%2emqtt%2egolang.(*client).Disconnect.func1"),
	)
}

const site, kiosk = "huamu-1", "gate-1"

func dial(t *testing.T, cfg Config) *Link {
	t.Helper()
	l, err := Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

// The link subscribes, hands on what kiosks publish, and publishes
// retained messages the broker keeps.
func TestLinkReceivesAndPublishes(t *testing.T) {
	b := testkit.StartBroker(t)
	subscribedAgain := make(chan struct{}, 1)
	l := dial(t, Config{Broker: b.URL, OnSubscribed: func(*Link) { subscribedAgain <- struct{}{} }})
	select {
	case <-l.Subscribed():
	case <-time.After(testkit.Wait):
		t.Fatal("not subscribed")
	}
	<-subscribedAgain
	if !l.Connected() {
		t.Error("Connected() = false after subscribing")
	}
	topic := protocol.EntriesTopic(site, kiosk)
	if err := b.Server.Publish(topic, []byte("batch"), false, 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), testkit.Wait)
	defer cancel()
	got, payload, ok := l.Next(ctx)
	if !ok || got != topic || string(payload) != "batch" {
		t.Fatalf("Next = %q, %q, %v; want %q, batch", got, payload, ok, topic)
	}

	retained := make(chan string, 1)
	ack := protocol.AckTopic(site, kiosk)
	if err := l.Publish(ctx, ack, []byte("ack")); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	err := b.Server.Subscribe(ack, 1, func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		if pk.FixedHeader.Retain {
			retained <- string(pk.Payload)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-retained:
		if p != "ack" {
			t.Errorf("retained ack = %q, want ack", p)
		}
	case <-time.After(testkit.Wait):
		t.Fatal("the published ack is not retained")
	}
}

// Next hands out a waiting alert before a batch that arrived earlier, and
// reports ok false once ctx ends.
func TestNextTakesAlertsFirst(t *testing.T) {
	l := &Link{inbox: make(chan message, 2), alerts: make(chan message, 2)}
	l.inbox <- message{topic: "entries"}
	l.alerts <- message{topic: "alerts"}
	for _, want := range []string{"alerts", "entries"} {
		if got, _, ok := l.Next(t.Context()); !ok || got != want {
			t.Fatalf("Next = %q, %v; want %q", got, ok, want)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, ok := l.Next(ctx); ok {
		t.Error("Next with ctx done and nothing waiting returned ok")
	}
}

// The reconnect back-off waits on the injected clock, and Close ends that
// wait at once.
func TestBackoffOnClockAndClose(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC))
	l, err := Dial(Config{Broker: "tcp://" + testkit.FreeAddr(t), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	// The first attempt is refused at once; the next waits on the clock.
	testkit.Eventually(t, "a back-off wait on the fake clock", func() bool { return clk.Waiters() > 0 })
	done := make(chan struct{})
	go func() { defer close(done); l.Close() }()
	select {
	case <-done:
	case <-time.After(testkit.Wait):
		t.Fatal("Close did not end the back-off wait")
	}
	if l.Connected() {
		t.Error("Connected() = true with no broker")
	}
}

// subscribed dials a link to b and waits for its subscription.
func subscribed(t *testing.T, b *testkit.Broker) *Link {
	t.Helper()
	l := dial(t, Config{Broker: b.URL})
	select {
	case <-l.Subscribed():
	case <-time.After(testkit.Wait):
		t.Fatal("not subscribed")
	}
	return l
}

// A flood of batches while ingest reads nothing fills the batches' queue
// and is then held back, not dropped: the ingest connection stops reading
// and the broker holds the rest. Alerts arrive on the other connection,
// which the flood does not hold: Next hands them out at once, and the
// hub's acks are still published. Once ingest reads again, every batch
// arrives.
func TestFullInboxHoldsBatchesButNotAlerts(t *testing.T) {
	b := testkit.StartBroker(t)
	l := subscribed(t, b)
	const flood, alerts = 2000, 20
	for i := 0; i < flood; i++ {
		if err := b.Server.Publish(protocol.EntriesTopic(site, kiosk), []byte("batch"), false, 1); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, "the inbox full and the ingest connection held", func() bool {
		return len(l.inbox) == inboxSize && l.Held() > 0
	})
	sent := time.Now()
	for i := 0; i < alerts; i++ {
		if err := b.Server.Publish(protocol.AlertsTopic(site, "gate-2"), []byte("alert"), false, 1); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, "the alerts read past the held batches", func() bool { return len(l.alerts) == alerts })
	if took := time.Since(sent); took > 2*time.Second {
		t.Errorf("the alerts took %s behind the held batches, want at most 2s", took)
	}
	ctx, cancel := context.WithTimeout(t.Context(), testkit.Wait)
	defer cancel()
	for i := 0; i < alerts; i++ {
		if topic, _, ok := l.Next(ctx); !ok || topic != protocol.AlertsTopic(site, "gate-2") {
			t.Fatalf("Next %d = %q, %v; want every alert before the waiting batches", i, topic, ok)
		}
	}
	if err := l.Publish(ctx, protocol.AckTopic(site, kiosk), []byte("ack")); err != nil {
		t.Errorf("Publish while the ingest connection is held: %v", err)
	}
	for i := 0; i < flood; i++ {
		if topic, _, ok := l.Next(ctx); !ok || topic != protocol.EntriesTopic(site, kiosk) {
			t.Fatalf("batch %d: Next = %q, %v; want every batch of the flood", i, topic, ok)
		}
	}
	if n := l.Dropped(); n != 0 {
		t.Errorf("Dropped = %d, want 0: a full inbox holds batches back", n)
	}
}

// A batch that finds no room within holdFor is dropped and counted, so a
// stalled store costs batches the kiosks send again, not the session.
func TestHeldBatchDroppedAfterHoldFor(t *testing.T) {
	b := testkit.StartBroker(t)
	clk := clock.NewFake(time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC))
	l := dial(t, Config{Broker: b.URL, Clock: clk})
	select {
	case <-l.Subscribed():
	case <-time.After(testkit.Wait):
		t.Fatal("not subscribed")
	}
	for i := 0; i <= inboxSize; i++ {
		if err := b.Server.Publish(protocol.EntriesTopic(site, kiosk), []byte("batch"), false, 1); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, "one batch held, waiting on the clock", func() bool { return l.Held() == 1 && clk.Waiters() > 0 })
	clk.Advance(holdFor)
	testkit.Eventually(t, "the held batch dropped", func() bool { return l.Dropped() == 1 })
	if n := l.DroppedAlerts(); n != 0 {
		t.Errorf("DroppedAlerts = %d, want 0", n)
	}
}

// The gate sees every message before it is queued; what it refuses is
// never queued.
func TestGateDropsBeforeQueueing(t *testing.T) {
	b := testkit.StartBroker(t)
	l := subscribed(t, b)
	var asked atomic.Int32
	l.Gate(func(topic string) bool {
		asked.Add(1)
		return !strings.Contains(topic, "/gate-9/")
	})
	for _, k := range []string{"gate-9", "gate-1", "gate-9"} {
		if err := b.Server.Publish(protocol.EntriesTopic(site, k), []byte(k), false, 1); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), testkit.Wait)
	defer cancel()
	if topic, payload, ok := l.Next(ctx); !ok || string(payload) != "gate-1" {
		t.Fatalf("Next = %q, %q, %v; want gate-1's batch only", topic, payload, ok)
	}
	testkit.Eventually(t, "the gate asked about all three", func() bool { return asked.Load() == 3 })
	if n := len(l.inbox); n != 0 || l.Dropped() != 0 {
		t.Errorf("after the gate: %d queued, %d dropped; want gate-9's batches neither queued nor counted as dropped", n, l.Dropped())
	}
}
