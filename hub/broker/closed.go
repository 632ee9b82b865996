package broker

import (
	"bytes"
	"context"
	"crypto/subtle"
	"strings"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/gatepost/gatepost/protocol"
)

// Closed is the broker's access rule once kiosks have identities: no
// anonymous client; a kiosk logs in as SITE/KIOSK with its secret, under a
// client id equal to that username (so nobody else can take over its
// session), publishes only its own entries, alerts and status, and reads
// only its own ack and downlinks and its site's downlinks; only the hub
// publishes acks and downlinks.
//
// It is the only access hook: mochi admits a client if ANY hook allows it,
// so an allow-all hook beside it would open everything again.
type Closed struct {
	mqtt.HookBase
	// Kiosk checks a kiosk's login (the registry); nil admits no kiosk.
	Kiosk func(ctx context.Context, username, secret string) (site, kiosk string, ok bool)
	// HubUser and HubSecret are the hub's own login; HubUser has no '/'.
	HubUser, HubSecret string
	// Refused, if set, is told of every refusal, for counting and logging.
	Refused func(username, why string)
}

// ID names the hook for mochi.
func (h *Closed) ID() string { return "gatepost-closed" }

// Provides says which hook methods Closed implements.
func (h *Closed) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck}, []byte{b})
}

func (h *Closed) refuse(user, why string) bool {
	if h.Refused != nil {
		h.Refused(user, why)
	}
	return false
}

// OnConnectAuthenticate admits the hub and enrolled kiosks.
func (h *Closed) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	user, secret := string(pk.Connect.Username), string(pk.Connect.Password)
	switch {
	case user == "":
		return h.refuse("", "anonymous")
	case cl.ID != user:
		return h.refuse(user, "client id "+clip(cl.ID)+" is not the username")
	case h.HubUser != "" && user == h.HubUser:
		if subtle.ConstantTimeCompare([]byte(secret), []byte(h.HubSecret)) != 1 || h.HubSecret == "" {
			return h.refuse(user, "wrong hub secret")
		}
		return true
	case h.Kiosk == nil:
		return h.refuse(user, "no kiosk is admitted")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	site, kiosk, ok := h.Kiosk(ctx, user, secret)
	if !ok || user != site+"/"+kiosk {
		return h.refuse(user, "not an enrolled kiosk, or a wrong secret")
	}
	return true
}

// OnACLCheck allows a topic (or, for a subscription, a filter) by who is
// asking. Filters are compared exactly: a kiosk subscribes to the very
// filters protocol gives it, never to a wider one.
func (h *Closed) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	user := string(cl.Properties.Username)
	if h.HubUser != "" && user == h.HubUser && cl.ID == user {
		if rest, ok := strings.CutPrefix(topic, "$share/"); ok { // the replicas' shared subscriptions
			_, topic, _ = strings.Cut(rest, "/")
		}
		return topic == protocol.TopicRoot || strings.HasPrefix(topic, protocol.TopicRoot+"/")
	}
	site, kiosk, ok := strings.Cut(user, "/")
	if !ok || cl.ID != user || !protocol.ValidName(site) || !protocol.ValidName(kiosk) {
		return false
	}
	if write {
		switch topic {
		case protocol.EntriesTopic(site, kiosk), protocol.AlertsTopic(site, kiosk), protocol.StatusTopic(site, kiosk):
			return true
		}
		return h.refuse(user, "publish to "+clip(topic))
	}
	if topic == protocol.AckTopic(site, kiosk) {
		return true
	}
	for _, f := range protocol.DownlinkSubscriptions(site, kiosk) {
		if topic == f || matchesLevel(f, topic) {
			return true
		}
	}
	return h.refuse(user, "read "+clip(topic))
}

// matchesLevel reports whether topic is matched by filter, a filter whose
// only wildcard is a final "+" (as the downlink filters are). Messages
// delivered through an allowed subscription are checked again by topic.
func matchesLevel(filter, topic string) bool {
	prefix, ok := strings.CutSuffix(filter, "/+")
	if !ok {
		return false
	}
	leaf, ok := strings.CutPrefix(topic, prefix+"/")
	return ok && leaf != "" && !strings.ContainsAny(leaf, "/+#")
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
