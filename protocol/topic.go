package protocol

import (
	"fmt"
	"strings"
)

// TopicRoot prefixes every gatepost topic. The version in it lets a future
// incompatible layout run beside this one on the same broker.
const TopicRoot = "gatepost/v1"

// EntriesSubscription is what the hub subscribes to for every kiosk's
// batches.
const EntriesSubscription = TopicRoot + "/+/+/entries"

// EntriesTopic is where kiosk publishes its batches (kiosk -> hub, QoS 1).
func EntriesTopic(site, kiosk string) string {
	return TopicRoot + "/" + site + "/" + kiosk + "/entries"
}

// AckTopic is where the hub acknowledges a kiosk's batches (hub -> kiosk,
// QoS 1, retained so a restarted kiosk learns where it stands at once).
func AckTopic(site, kiosk string) string {
	return TopicRoot + "/" + site + "/" + kiosk + "/ack"
}

// ParseEntriesTopic returns the site and kiosk named by an entries topic.
// The hub checks them against the message: the topic is what the broker
// authorised, the message is what the kiosk claims.
func ParseEntriesTopic(topic string) (site, kiosk string, err error) {
	parts := strings.Split(topic, "/")
	if len(parts) != 5 || parts[0]+"/"+parts[1] != TopicRoot || parts[4] != "entries" ||
		!ValidName(parts[2]) || !ValidName(parts[3]) {
		return "", "", fmt.Errorf("%w: topic %q is not %s/SITE/KIOSK/entries", ErrInvalid, topic, TopicRoot)
	}
	return parts[2], parts[3], nil
}

// AlertsSubscription is what the hub subscribes to for alerts that jump
// the queue.
const AlertsSubscription = TopicRoot + "/+/+/alerts"

// StatusSubscription is what the hub subscribes to for kiosk presence.
const StatusSubscription = TopicRoot + "/+/+/status"

// AlertsTopic is where a kiosk publishes each alert entry at once, as a
// batch of one, ahead of any backlog on its entries topic (kiosk -> hub,
// QoS 1). The hub stores and acknowledges it like any other entry.
func AlertsTopic(site, kiosk string) string {
	return TopicRoot + "/" + site + "/" + kiosk + "/alerts"
}

// StatusTopic is where a kiosk's retained presence lives: Status with
// Online=true from the kiosk, Online=false as its last will.
func StatusTopic(site, kiosk string) string {
	return TopicRoot + "/" + site + "/" + kiosk + "/status"
}

// DownlinkTopic is where the hub publishes (retained) the latest downlink
// of kind for every kiosk of site (kiosk == "") or for one kiosk.
func DownlinkTopic(site, kiosk string, kind DownlinkKind) string {
	if kiosk == "" {
		return TopicRoot + "/" + site + "/downlink/" + string(kind)
	}
	return TopicRoot + "/" + site + "/" + kiosk + "/downlink/" + string(kind)
}

// DownlinkSubscriptions are the two filters a kiosk subscribes to: its
// site's downlinks and its own.
func DownlinkSubscriptions(site, kiosk string) []string {
	return []string{
		TopicRoot + "/" + site + "/downlink/+",
		TopicRoot + "/" + site + "/" + kiosk + "/downlink/+",
	}
}

// ParseKioskTopic returns the site, kiosk and last level ("entries",
// "alerts" or "status") of a topic a kiosk publishes to.
func ParseKioskTopic(topic string) (site, kiosk, leaf string, err error) {
	parts := strings.Split(topic, "/")
	if len(parts) != 5 || parts[0]+"/"+parts[1] != TopicRoot ||
		!ValidName(parts[2]) || !ValidName(parts[3]) {
		return "", "", "", fmt.Errorf("%w: topic %q is not %s/SITE/KIOSK/(entries|alerts|status)", ErrInvalid, topic, TopicRoot)
	}
	switch parts[4] {
	case "entries", "alerts", "status":
		return parts[2], parts[3], parts[4], nil
	}
	return "", "", "", fmt.Errorf("%w: topic %q is not %s/SITE/KIOSK/(entries|alerts|status)", ErrInvalid, topic, TopicRoot)
}
