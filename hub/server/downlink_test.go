package server

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// downlinkPublic is the public half of the downlink key in the hub's data
// folder dir.
func downlinkPublic(t *testing.T, dir string) ed25519.PublicKey {
	key, err := datadir.Dir{Path: dir}.DownlinkKey()
	if err != nil {
		t.Error(err)
		return nil
	}
	return key.Public().(ed25519.PublicKey)
}

// A downlink is stored and retained; a hub restarted on the same data (its
// embedded broker restarted too, retained messages lost) publishes it
// again; a kiosk's presence reaches the fleet state.
func TestDownlinkRetainedAndRepublished(t *testing.T) {
	dir := t.TempDir()
	mqttAddr := testkit.FreeAddr(t)
	s := open(t, Config{DataDir: dir, MQTTListen: mqttAddr})
	ctx := t.Context()
	d, err := s.PublishDownlink(ctx, site, "", protocol.DownlinkConfig, json.RawMessage(`{"fever_c":37.5}`))
	if err != nil || d.Version != 1 {
		t.Fatalf("PublishDownlink = v%d, %v; want v1", d.Version, err)
	}
	if _, err := s.PublishDownlink(ctx, site, "", protocol.DownlinkConfig, json.RawMessage(`{"fever_c":99}`)); err == nil {
		t.Error("PublishDownlink accepted fever_c 99")
	}
	got := make(chan protocol.Downlink, 4)
	sub := func(s *Server, url string) paho.Client {
		c := paho.NewClient(asKiosk(t, s, url))
		if tok := c.Connect(); !tok.WaitTimeout(deadline) || tok.Error() != nil {
			t.Fatalf("connect: %v", tok.Error())
		}
		t.Cleanup(func() { c.Disconnect(0) })
		tok := c.Subscribe(protocol.DownlinkSubscriptions(site, kiosk)[0], 1, func(_ paho.Client, m paho.Message) {
			// Signed with the key in the data folder, which survives the
			// restart: what a kiosk pinned at enrollment.
			if d, err := protocol.OpenDownlink(m.Payload(), downlinkPublic(t, dir)); err == nil {
				got <- d
			} else {
				t.Errorf("a published downlink does not verify against the hub's downlink key: %v", err)
			}
		})
		if !tok.WaitTimeout(deadline) || tok.Error() != nil {
			t.Fatalf("subscribe: %v", tok.Error())
		}
		return c
	}
	next := func() protocol.Downlink {
		select {
		case d := <-got:
			return d
		case <-time.After(deadline):
			t.Fatal("no downlink within the deadline")
			return protocol.Downlink{}
		}
	}
	sub(s, s.BrokerURL())
	if d := next(); d.Version != 1 || string(d.Payload) != `{"fever_c":37.5}` {
		t.Fatalf("retained downlink = %+v", d)
	}

	// Presence: online, then the kiosk's will when it dies.
	will, _ := protocol.EncodeStatus(protocol.Status{Kiosk: kiosk, Site: site})
	on, _ := protocol.EncodeStatus(protocol.Status{Kiosk: kiosk, Site: site, Online: true, Time: time.Now(),
		Downlink: map[string]uint64{"config": 1}})
	k := paho.NewClient(asKiosk(t, s, s.BrokerURL()).
		SetBinaryWill(protocol.StatusTopic(site, kiosk), will, 1, true).SetAutoReconnect(false))
	if tok := k.Connect(); !tok.WaitTimeout(deadline) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	if tok := k.Publish(protocol.StatusTopic(site, kiosk), 1, true, on); !tok.WaitTimeout(deadline) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	waitFleet(t, s, func(online bool, v uint64) bool { return online && v == 1 })
	k.Disconnect(0) // a clean disconnect sends no will: the kiosk says goodbye itself
	if tok := k2Publish(t, s, s.BrokerURL(), will); tok != nil {
		t.Fatal(tok)
	}
	waitFleet(t, s, func(online bool, v uint64) bool { return !online && v == 1 })

	metrics := scrape(t, s)
	for _, want := range []string{`gatepost_hub_kiosk_online{kiosk="gate-1",site="huamu-1"} 0`, "gatepost_hub_entries_inserted_total 0"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, Config{DataDir: dir, MQTTListen: mqttAddr})
	sub(s2, s2.BrokerURL())
	if d := next(); d.Version != 1 {
		t.Fatalf("after the hub's restart the kiosk found %+v, want v1 republished", d)
	}
}

func k2Publish(t *testing.T, s *Server, url string, payload []byte) error {
	c := paho.NewClient(asKiosk(t, s, url))
	if tok := c.Connect(); !tok.WaitTimeout(deadline) || tok.Error() != nil {
		return tok.Error()
	}
	defer c.Disconnect(0)
	tok := c.Publish(protocol.StatusTopic(site, kiosk), 1, true, payload)
	tok.WaitTimeout(deadline)
	return tok.Error()
}

func waitFleet(t *testing.T, s *Server, ok func(online bool, config uint64) bool) {
	t.Helper()
	testkit.Eventually(t, "the kiosk's presence in the fleet state", func() bool {
		ks, err := s.store.Kiosks(t.Context())
		return err == nil && len(ks) == 1 && ok(ks[0].Online, ks[0].Downlink["config"])
	})
}
