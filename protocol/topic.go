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
