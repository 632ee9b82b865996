package downlink

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

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
