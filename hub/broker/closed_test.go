package broker

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// closedBroker serves mochi with the Closed hook alone, kiosks
// huamu-1/gate-1 and huamu-1/gate-2 enrolled with secret "pw-" + username.
func closedBroker(t *testing.T) (url string, refused func() []string) {
	t.Helper()
	return closedBrokerWith(t, nil)
}

// closedBrokerWith is closedBroker with a transition rule.
func closedBrokerWith(t *testing.T, transition func(ctx context.Context, site, kiosk string) (string, bool)) (url string, refused func() []string) {
	t.Helper()
	var mu sync.Mutex
	var why []string
	h := &Closed{
		HubUser: "hub", HubSecret: "hub-secret",
		Kiosk: func(_ context.Context, user, secret string) (string, string, bool) {
			for _, k := range []string{"gate-1", "gate-2"} {
				if user == "huamu-1/"+k && secret == "pw-"+user {
					return "huamu-1", k, true
				}
			}
			return "", "", false
		},
		Refused:    func(user, reason string) { mu.Lock(); why = append(why, user+": "+reason); mu.Unlock() },
		Transition: transition,
	}
	srv := mqtt.New(&mqtt.Options{})
	if err := srv.AddHook(h, nil); err != nil {
		t.Fatal(err)
	}
	ln := testkit.Listen(t)
	if err := srv.AddListener(listeners.NewNet("t", ln)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return testkit.URL(ln), func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), why...) }
}

func login(url, id, user, pw string) (paho.Client, error) {
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(id).SetUsername(user).SetPassword(pw).
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second))
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, errors.New("connect timed out")
	}
	return c, tok.Error()
}

func TestClosedAdmitsOnlyEnrolledKiosksUnderTheirOwnIDs(t *testing.T) {
	url, refused := closedBroker(t)
	for _, tc := range []struct{ name, id, user, pw string }{
		{"anonymous", "x", "", ""},
		{"wrong secret", "huamu-1/gate-1", "huamu-1/gate-1", "guess"},
		{"another kiosk's id (takeover)", "huamu-1/gate-1", "huamu-1/gate-2", "pw-huamu-1/gate-2"},
		{"unknown kiosk", "huamu-1/gate-9", "huamu-1/gate-9", "pw-huamu-1/gate-9"},
		{"hub with a wrong secret", "hub", "hub", "x"},
	} {
		if c, err := login(url, tc.id, tc.user, tc.pw); err == nil {
			c.Disconnect(0)
			t.Errorf("%s: admitted", tc.name)
		}
	}
	if n := len(refused()); n < 5 {
		t.Errorf("refusals reported: %d, want 5: %v", n, refused())
	}
	c, err := login(url, "huamu-1/gate-1", "huamu-1/gate-1", "pw-huamu-1/gate-1")
	if err != nil {
		t.Fatalf("an enrolled kiosk: %v", err)
	}
	c.Disconnect(0)
}

func TestClosedKeepsEachKioskToItsOwnTopics(t *testing.T) {
	url, refused := closedBroker(t)
	hub, err := login(url, "hub", "hub", "hub-secret")
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Disconnect(0)
	got := make(chan string, 16)
	for _, f := range []string{protocol.EntriesSubscription, protocol.AlertsSubscription} {
		if tok := hub.Subscribe(f, 1, func(_ paho.Client, m paho.Message) { got <- m.Topic() }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	k1, err := login(url, "huamu-1/gate-1", "huamu-1/gate-1", "pw-huamu-1/gate-1")
	if err != nil {
		t.Fatal(err)
	}
	defer k1.Disconnect(0)

	// Subscriptions: its own are granted, others refused (SUBACK 0x80).
	for filter, want := range map[string]bool{
		protocol.AckTopic("huamu-1", "gate-1"):                 true,
		protocol.DownlinkSubscriptions("huamu-1", "gate-1")[0]: true,
		protocol.DownlinkSubscriptions("huamu-1", "gate-1")[1]: true,
		protocol.AckTopic("huamu-1", "gate-2"):                 false,
		protocol.EntriesSubscription:                           false,
		"#":                                                    false,
		protocol.DownlinkSubscriptions("huamu-2", "gate-1")[0]: false,
	} {
		tok := k1.Subscribe(filter, 1, nil)
		tok.WaitTimeout(5 * time.Second)
		granted := tok.Error() == nil && tok.(*paho.SubscribeToken).Result()[filter] < 0x80
		if granted != want {
			t.Errorf("kiosk subscribes %q: granted %v, want %v", filter, granted, want)
		}
	}

	// Its own entries reach the hub.
	k1.Publish(protocol.EntriesTopic("huamu-1", "gate-1"), 1, false, "mine").WaitTimeout(5 * time.Second)
	select {
	case topic := <-got:
		if topic != protocol.EntriesTopic("huamu-1", "gate-1") {
			t.Fatalf("hub got %q", topic)
		}
	case <-time.After(testkit.Wait):
		t.Fatal("the kiosk's own entries never reached the hub")
	}
	// Publishing as another kiosk, or an ack, is refused: mochi ends a
	// 3.1.1 client that publishes where it may not, and nothing arrives.
	for _, topic := range []string{protocol.EntriesTopic("huamu-1", "gate-2"), protocol.AckTopic("huamu-1", "gate-1"),
		protocol.DownlinkTopic("huamu-1", "", protocol.DownlinkConfig)} {
		k, err := login(url, "huamu-1/gate-1", "huamu-1/gate-1", "pw-huamu-1/gate-1")
		if err != nil {
			t.Fatal(err)
		}
		k.Publish(topic, 1, false, "forged").WaitTimeout(2 * time.Second)
		testkit.Eventually(t, "the forging client is cut off", func() bool { return !k.IsConnectionOpen() })
		k.Disconnect(0)
	}
	// A marker from the hub's side proves nothing forged was queued ahead.
	k2, err := login(url, "huamu-1/gate-2", "huamu-1/gate-2", "pw-huamu-1/gate-2")
	if err != nil {
		t.Fatal(err)
	}
	defer k2.Disconnect(0)
	k2.Publish(protocol.AlertsTopic("huamu-1", "gate-2"), 1, false, "marker").WaitTimeout(5 * time.Second)
	select {
	case topic := <-got:
		if topic != protocol.AlertsTopic("huamu-1", "gate-2") {
			t.Fatalf("hub got %q before the marker: a forged message got through", topic)
		}
	case <-time.After(testkit.Wait):
		t.Fatal("the marker never arrived")
	}
	if len(refused()) < 7 {
		t.Errorf("refusals reported: %v", refused())
	}
}

func TestClosedLetsTheHubUseSharedSubscriptionsOfItsTopicsOnly(t *testing.T) {
	h := &Closed{HubUser: "hub"}
	cl := &mqtt.Client{ID: "hub"}
	cl.Properties.Username = []byte("hub")
	for topic, want := range map[string]bool{
		"$share/hubs/" + protocol.EntriesSubscription: true,
		protocol.AckTopic("s", "k"):                   true,
		"$share/hubs/other/#":                         false,
		"$SYS/broker/clients":                         false,
		"#":                                           false,
	} {
		if got := h.OnACLCheck(cl, topic, false); got != want {
			t.Errorf("hub reads %q: %v, want %v", topic, got, want)
		}
	}
}

func TestClosedHubProcessesChooseTheirClientIDsButNeverAKiosks(t *testing.T) {
	url, _ := closedBroker(t)
	for _, id := range []string{"hub", "gatepost-hub-push-1a2b", "gatepost-hub-replica-2"} {
		c, err := login(url, id, "hub", "hub-secret")
		if err != nil {
			t.Fatalf("hub client %q refused: %v", id, err)
		}
		c.Disconnect(0)
	}
	if c, err := login(url, "huamu-1/gate-1", "hub", "hub-secret"); err == nil {
		c.Disconnect(0)
		t.Fatal("the hub login took a kiosk's client id")
	}
	// The hub's commands use the same account under a name of their own.
	c, err := login(url, "hub-cli", "hub-cli", "hub-secret")
	if err != nil {
		t.Fatalf("the hub's command name: %v", err)
	}
	c.Disconnect(0)
	for _, user := range []string{"hubx", "hub-cli/x"} {
		if c, err := login(url, "x", user, "hub-secret"); err == nil {
			c.Disconnect(0)
			t.Errorf("%q logged in as the hub", user)
		}
	}
}

// In transition mode a site's kiosks that are not enrolled yet connect as
// before the upgrade (anonymous, their own client id) or as SITE/KIOSK
// with no secret, and are still held to their own topics; another site's
// are refused.
func TestClosedTransitionAdmitsOnlyItsSiteAndKeepsTopics(t *testing.T) {
	url, _ := closedBrokerWith(t, func(_ context.Context, site, kiosk string) (string, bool) {
		if kiosk == "old-3" && (site == "" || site == "huamu-1") {
			return "huamu-1", true
		}
		return "", false
	})
	legacy, err := login(url, "gatepost-kiosk-old-3-0123456789ab", "", "")
	if err != nil {
		t.Fatalf("an older kiosk of a site in transition: %v", err)
	}
	defer legacy.Disconnect(0)
	for filter, want := range map[string]bool{
		protocol.AckTopic("huamu-1", "old-3"):  true,
		protocol.AckTopic("huamu-1", "gate-1"): false,
	} {
		tok := legacy.Subscribe(filter, 1, nil)
		tok.WaitTimeout(5 * time.Second)
		granted := tok.Error() == nil && tok.(*paho.SubscribeToken).Result()[filter] < 0x80
		if granted != want {
			t.Errorf("transition kiosk subscribes %q: granted %v, want %v", filter, granted, want)
		}
	}
	if c, err := login(url, "huamu-1/old-3", "huamu-1/old-3", ""); err != nil {
		t.Errorf("a new-style login in transition: %v", err)
	} else {
		c.Disconnect(0)
	}
	for _, tc := range []struct{ id, user string }{
		{"gatepost-kiosk-gate-9-0123456789ab", ""}, // not in transition
		{"huamu-2/old-3", "huamu-2/old-3"},         // another site
		{"some-client", ""},
	} {
		if c, err := login(url, tc.id, tc.user, ""); err == nil {
			c.Disconnect(0)
			t.Errorf("%q admitted", tc.id)
		}
	}
}
