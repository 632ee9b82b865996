package protocol

import "testing"

func TestEntriesTopicRoundTrip(t *testing.T) {
	topic := EntriesTopic("huamu-1", "gate-1")
	if topic != "gatepost/v1/huamu-1/gate-1/entries" {
		t.Fatalf("EntriesTopic = %q", topic)
	}
	site, kiosk, err := ParseEntriesTopic(topic)
	if err != nil || site != "huamu-1" || kiosk != "gate-1" {
		t.Fatalf("ParseEntriesTopic(%q) = %q, %q, %v", topic, site, kiosk, err)
	}
	if got := AckTopic("huamu-1", "gate-1"); got != "gatepost/v1/huamu-1/gate-1/ack" {
		t.Errorf("AckTopic = %q", got)
	}
}

func TestParseEntriesTopicRejects(t *testing.T) {
	for _, topic := range []string{
		"", "gatepost/v1/huamu-1/gate-1/ack", "gatepost/v2/huamu-1/gate-1/entries",
		"gatepost/v1/huamu-1/entries", "gatepost/v1/huamu 1/gate-1/entries",
		"gatepost/v1/huamu-1/gate-1/entries/x", "gatepost/v1/+/gate-1/entries",
	} {
		if site, kiosk, err := ParseEntriesTopic(topic); err == nil {
			t.Errorf("ParseEntriesTopic(%q) = %q, %q, nil; want error", topic, site, kiosk)
		}
	}
}
