package link

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// Replicas: each hub replica's link joins the kiosks' subscriptions to one
// shared subscription group, and has client ids of its own.

// Share returns filter as the shared subscription of group,
// $share/GROUP/FILTER, or filter itself when group is empty.
func Share(group, filter string) string {
	if group == "" {
		return filter
	}
	return "$share/" + group + "/" + filter
}

// CheckShareGroup says what is wrong with a share group's name, if
// anything: it is one topic level, without wildcards.
func CheckShareGroup(group string) error {
	if group == "" || strings.ContainsAny(group, "/+#") || strings.TrimSpace(group) != group || len(group) > 64 {
		return fmt.Errorf("share group %q: want one word of at most 64 characters without '/', '+', '#' or spaces, e.g. gatepost-hub", group)
	}
	return nil
}

// clientID is unique per process, so that hub replicas sharing one broker
// never take over each other's session, and has no '/', which only a
// kiosk's SITE/KIOSK identity has.
func clientID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("client id: %w", err)
	}
	return "gatepost-hub-" + hex.EncodeToString(b[:]), nil
}
