package broker

import (
	"bytes"
	"context"
	"crypto/subtle"
	"regexp"
	"strings"
	"sync"
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
	// Transition, if set, admits a kiosk that is not enrolled yet, on a
	// hub upgraded in place, while an operator keeps its site in
	// transition mode: it answers for the kiosk named by a login
	// SITE/KIOSK with any password, or by an older kiosk's anonymous client
	// id (gatepost-kiosk-KIOSK-SESSION, site "" to be looked up).
	Transition func(ctx context.Context, site, kiosk string) (admittedSite string, ok bool)
	// Refused, if set, is told of every refusal, for counting and logging.
	Refused func(username, why string)

	// legacy maps the client id of a kiosk admitted anonymously in
	// transition mode to its SITE/KIOSK, for the topic checks.
	legacy sync.Map
}

// legacyClientID is an older kiosk's client id: gatepost-kiosk-KIOSK-SESSION.
var legacyClientID = regexp.MustCompile(`^gatepost-kiosk-([A-Za-z0-9_-]{1,64})-[0-9a-f]{12}$`)

// ID names the hook for mochi.
func (h *Closed) ID() string { return "gatepost-closed" }

// Provides says which hook methods Closed implements.
func (h *Closed) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnDisconnect}, []byte{b})
}

func (h *Closed) refuse(user, why string) bool {
	if h.Refused != nil {
		h.Refused(user, why)
	}
	return false
}

// OnConnectAuthenticate admits the hub and enrolled kiosks (and, in
// transition mode, a site's kiosks that are not enrolled yet).
func (h *Closed) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	user, secret := string(pk.Connect.Username), string(pk.Connect.Password)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	switch {
	case user == "":
		if m := legacyClientID.FindStringSubmatch(cl.ID); m != nil && h.Transition != nil {
			if site, ok := h.Transition(ctx, "", m[1]); ok {
				h.legacy.Store(cl.ID, legacyID{cl, site + "/" + m[1]})
				return true
			}
		}
		return h.refuse("", "anonymous")
	case h.isHub(user):
		// The hub's processes (hub serve, hub push, replicas) choose their
		// own client ids; none holds a '/', so none can be a kiosk's.
		if strings.Contains(cl.ID, "/") {
			return h.refuse(user, "hub client id "+clip(cl.ID)+" has a '/'")
		}
		if subtle.ConstantTimeCompare([]byte(secret), []byte(h.HubSecret)) != 1 || h.HubSecret == "" {
			return h.refuse(user, "wrong hub secret")
		}
		return true
	case cl.ID != user:
		return h.refuse(user, "client id "+clip(cl.ID)+" is not the username")
	}
	if h.Kiosk != nil {
		if site, kiosk, ok := h.Kiosk(ctx, user, secret); ok && user == site+"/"+kiosk {
			return true
		}
	}
	if site, kiosk, ok := strings.Cut(user, "/"); ok && h.Transition != nil {
		if _, ok := h.Transition(ctx, site, kiosk); ok {
			return true
		}
	}
	return h.refuse(user, "not an enrolled kiosk, or a wrong secret")
}

// legacyID is a transition client's identity, held for that connection
// alone: a reconnect under the same client id replaces it, and the old
// connection's end must not forget the new one's.
type legacyID struct {
	cl *mqtt.Client
	id string
}

// isHub reports whether user is one of the hub's names: HubUser, or
// HubUser and a suffix ("gatepost-hub-cli"), all logging in with the same
// secret. None has a '/', so none is a kiosk's.
func (h *Closed) isHub(user string) bool {
	return h.HubUser != "" && (user == h.HubUser || strings.HasPrefix(user, h.HubUser+"-")) && !strings.Contains(user, "/")
}

// OnDisconnect forgets a transition client's identity.
func (h *Closed) OnDisconnect(cl *mqtt.Client, _ error, _ bool) {
	if v, ok := h.legacy.Load(cl.ID); ok && v.(legacyID).cl == cl {
		h.legacy.CompareAndDelete(cl.ID, v)
	}
}

// identity is the SITE/KIOSK a kiosk client acts as, or "".
func (h *Closed) identity(cl *mqtt.Client) string {
	if v, ok := h.legacy.Load(cl.ID); ok && v.(legacyID).cl == cl {
		return v.(legacyID).id
	}
	if user := string(cl.Properties.Username); cl.ID == user {
		return user
	}
	return ""
}

// OnACLCheck allows a topic (or, for a subscription, a filter) by who is
// asking. Filters are compared exactly: a kiosk subscribes to the very
// filters protocol gives it, never to a wider one.
func (h *Closed) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	user := string(cl.Properties.Username)
	if h.isHub(user) && !strings.Contains(cl.ID, "/") {
		if rest, ok := strings.CutPrefix(topic, "$share/"); ok { // the replicas' shared subscriptions
			_, topic, _ = strings.Cut(rest, "/")
		}
		return topic == protocol.TopicRoot || strings.HasPrefix(topic, protocol.TopicRoot+"/")
	}
	user = h.identity(cl)
	site, kiosk, ok := strings.Cut(user, "/")
	if !ok || !protocol.ValidName(site) || !protocol.ValidName(kiosk) {
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
