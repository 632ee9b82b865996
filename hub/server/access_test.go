package server

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// connectErr connects a client and reports why it was refused, or nil.
func connectErr(opts *paho.ClientOptions) (paho.Client, error) {
	c := paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(deadline) {
		return c, context.DeadlineExceeded
	}
	return c, tok.Error()
}

// The embedded broker is closed from the first start: no anonymous client,
// no wrong secret, no kiosk under another's client id.
func TestBrokerIsClosedFromTheFirstStart(t *testing.T) {
	s := open(t, Config{})
	url := s.BrokerURL()
	for name, opts := range map[string]*paho.ClientOptions{
		"anonymous":        paho.NewClientOptions().AddBroker(url).SetClientID("x").SetAutoReconnect(false),
		"an older kiosk":   paho.NewClientOptions().AddBroker(url).SetClientID("gatepost-kiosk-gate-1-0123456789ab").SetAutoReconnect(false),
		"a guessed secret": paho.NewClientOptions().AddBroker(url).SetClientID(site + "/" + kiosk).SetUsername(site + "/" + kiosk).SetPassword("guess").SetAutoReconnect(false),
		"the hub's name, a wrong secret": paho.NewClientOptions().AddBroker(url).SetClientID("gatepost-hub-x").
			SetUsername(s.access.hubUser).SetPassword("guess").SetAutoReconnect(false),
	} {
		if c, err := connectErr(opts); err == nil {
			c.Disconnect(0)
			t.Errorf("%s: admitted", name)
		}
	}
	if s.access.refused.Load() < 4 {
		t.Errorf("refused logins counted: %d, want 4", s.access.refused.Load())
	}
}

// Retiring a kiosk ends its open session within seconds and refuses its
// login from then on.
func TestRetiredKioskIsCutAndRefused(t *testing.T) {
	s := open(t, Config{})
	opts := asKiosk(t, s, s.BrokerURL())
	k, err := connectErr(opts)
	if err != nil {
		t.Fatalf("an enrolled kiosk: %v", err)
	}
	defer k.Disconnect(0)
	if err := s.access.registry.Retire(t.Context(), kiosk); err != nil {
		t.Fatal(err)
	}
	testkit.EventuallyWithin(t, 5*accessEvery, "the retired kiosk's session ends", func() bool { return !k.IsConnectionOpen() })
	if c, err := connectErr(opts); err == nil {
		c.Disconnect(0)
		t.Fatal("a retired kiosk logged in again")
	}
}

// In transition mode an upgraded hub admits the kiosks it already knew at
// that site, not yet enrolled, until the deadline; then their sessions end
// and they are refused.
func TestTransitionAdmitsKnownKiosksUntilItEnds(t *testing.T) {
	s := open(t, Config{})
	// The hub knew gate-1 before the upgrade: it holds a batch of it.
	b, err := protocol.DecodeBatch(batch(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.SaveBatch(t.Context(), b, time.Now()); err != nil {
		t.Fatal(err)
	}

	var ended atomic.Bool
	deadlineAt := time.Now().Add(time.Hour)
	s.access.inTransition = func(_ context.Context, st string) (time.Time, bool) {
		return deadlineAt, st == site && !ended.Load()
	}
	legacy := paho.NewClientOptions().AddBroker(s.BrokerURL()).SetClientID("gatepost-kiosk-" + kiosk + "-0123456789ab").
		SetAutoReconnect(false).SetConnectTimeout(deadline)
	c, err := connectErr(legacy)
	if err != nil {
		t.Fatalf("a known kiosk of a site in transition: %v", err)
	}
	defer c.Disconnect(0)
	// Its batches are taken and acked, as before the upgrade.
	k := &kioskClient{c: c, acks: make(chan received, 16)}
	if tok := c.Subscribe(protocol.AckTopic(site, kiosk), 1, func(_ paho.Client, m paho.Message) {
		if a, err := protocol.DecodeAck(m.Payload()); err == nil {
			k.acks <- received{a, m.Retained()}
		}
	}); !tok.WaitTimeout(deadline) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	k.publish(t, batch(t, 2))
	testkit.Eventually(t, "the transition kiosk's batch acked", func() bool {
		select {
		case r := <-k.acks:
			return r.ack.Contiguous == 2
		default:
			return false
		}
	})
	stranger := paho.NewClientOptions().AddBroker(s.BrokerURL()).SetClientID("gatepost-kiosk-gate-7-0123456789ab").SetAutoReconnect(false)
	if x, err := connectErr(stranger); err == nil {
		x.Disconnect(0)
		t.Error("a kiosk the hub never knew was admitted in transition")
	}
	ended.Store(true)
	testkit.EventuallyWithin(t, 5*accessEvery, "the session ends with the transition", func() bool { return !c.IsConnectionOpen() })
	if x, err := connectErr(legacy); err == nil {
		x.Disconnect(0)
		t.Fatal("admitted after the transition ended")
	}
}

func TestPlainMQTTOffLoopbackIsRefused(t *testing.T) {
	_, err := Open(t.Context(), Config{DataDir: t.TempDir(), MQTTListen: "0.0.0.0:0", HTTPListen: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "--allow-plain-mqtt") {
		t.Fatalf("Open with plain MQTT on all interfaces = %v", err)
	}
}
