package downlink

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		site, kiosk string
		kind        protocol.DownlinkKind
		payload     string
		field       string // "" for accepted, "any" for refused
	}{
		{"huamu-1", "", protocol.DownlinkConfig, `{"fever_c":37.3}`, ""},
		{"huamu-1", "gate-1", protocol.DownlinkConfig, `{"fever_c":35}`, ""},
		{"huamu-1", "", protocol.DownlinkConfig, `{"fever_c":40.1}`, "fever_c"},
		{"huamu-1", "", protocol.DownlinkConfig, `{"fever_c":"hot"}`, "any"}, // a JSON type error
		{"huamu-1", "", protocol.DownlinkConfig, `[1]`, "payload"},
		{"", "", protocol.DownlinkConfig, `{}`, "site"},
		{"huamu 1", "", protocol.DownlinkConfig, `{}`, "site"},
		{"huamu-1", "gate/1", protocol.DownlinkConfig, `{}`, "kiosk"},
		{"huamu-1", "", "firmware", `{}`, "kind"},
	} {
		err := Check(tc.site, tc.kiosk, tc.kind, json.RawMessage(tc.payload))
		var fe *protocol.FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("Check(%q, %q, %s, %s) = %v, want accepted", tc.site, tc.kiosk, tc.kind, tc.payload, err)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field) && !(tc.field == "any" && err != nil):
			t.Errorf("Check(%q, %q, %s, %s) = %v, want a problem with %s", tc.site, tc.kiosk, tc.kind, tc.payload, err, tc.field)
		}
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	p, err := Config(37.3)
	if err != nil || string(p) != `{"fever_c":37.3}` {
		t.Errorf("Config(37.3) = %s, %v", p, err)
	}
	if _, err := Config(math.NaN()); err == nil {
		t.Errorf("Config(NaN) succeeded")
	}
}

// Issue and Publish sign with the hub's downlink key: what goes out
// verifies against it and against no other key; with no key nothing is
// stored or sent.
func TestIssueSigns(t *testing.T) {
	t.Parallel()
	st, err := records.Open(filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	other := ed25519.NewKeyFromSeed([]byte(strings.Repeat("o", ed25519.SeedSize)))
	sent := map[string][]byte{}
	publish := func(_ context.Context, topic string, body []byte) error { sent[topic] = body; return nil }
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)

	if _, err := Issue(t.Context(), st, publish, nil, "huamu-1", "", protocol.DownlinkConfig, json.RawMessage(`{"fever_c":37.3}`), now); err == nil {
		t.Fatal("Issue with no key succeeded")
	}
	if ds, _ := st.Downlinks(t.Context()); len(ds) != 0 || len(sent) != 0 {
		t.Fatalf("Issue with no key stored %v and sent %d", ds, len(sent))
	}
	d, err := Issue(t.Context(), st, publish, key, "huamu-1", "", protocol.DownlinkConfig, json.RawMessage(`{"fever_c":37.3}`), now)
	if err != nil {
		t.Fatal(err)
	}
	body := sent[protocol.DownlinkTopic("huamu-1", "", protocol.DownlinkConfig)]
	got, err := protocol.OpenDownlink(body, key.Public().(ed25519.PublicKey))
	if err != nil || got.Version != d.Version || string(got.Payload) != `{"fever_c":37.3}` {
		t.Fatalf("published %s: OpenDownlink = %+v, %v; want v%d", body, got, err, d.Version)
	}
	if _, err := protocol.OpenDownlink(body, other.Public().(ed25519.PublicKey)); !errors.Is(err, protocol.ErrSignature) {
		t.Fatalf("verified against another key: %v", err)
	}
	if _, err := protocol.DecodeDownlink(body); err == nil {
		t.Fatal("the published message reads as an unsigned downlink")
	}
}
