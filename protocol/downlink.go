package protocol

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"time"
)

// DownlinkKind names what a downlink message carries.
type DownlinkKind string

// The downlink kinds. The transport treats every payload alike; what a
// payload means is up to the part of the kiosk that applies it.
const (
	DownlinkConfig     DownlinkKind = "config"      // thresholds and region lists: ConfigPayload
	DownlinkStatusList DownlinkKind = "status_list" // revoked passes, home observation (the passes issue)
	DownlinkKeys       DownlinkKind = "keys"        // pass-signing public keys (the passes issue)
)

// DownlinkKinds lists every kind, in a fixed order.
var DownlinkKinds = []DownlinkKind{DownlinkConfig, DownlinkStatusList, DownlinkKeys}

// Valid reports whether k is a known kind.
func (k DownlinkKind) Valid() bool {
	switch k {
	case DownlinkConfig, DownlinkStatusList, DownlinkKeys:
		return true
	}
	return false
}

// Downlink is a retained, versioned message from the hub to the kiosks of
// a site (Kiosk empty) or to one kiosk. A kiosk keeps, per kind, the
// highest version it has received from either scope and never replaces it
// with a lower one; the hub numbers versions per (site, kind) across both
// scopes, so "highest" is well defined.
type Downlink struct {
	Kind    DownlinkKind    `json:"kind"`
	Site    string          `json:"site"`
	Kiosk   string          `json:"kiosk,omitempty"` // empty: every kiosk of the site
	Version uint64          `json:"version"`         // ≥ 1, increasing per (site, kind)
	Issued  time.Time       `json:"issued"`          // hub clock
	Payload json.RawMessage `json:"payload"`         // a JSON object, opaque to the transport
}

// The fever threshold a config may set, °C.
const (
	FeverMinC = 35.0
	FeverMaxC = 40.0
)

// ConfigPayload is the payload of a "config" downlink. Every field is
// optional: a kiosk keeps its own value for what is absent.
type ConfigPayload struct {
	FeverC     *float64 `json:"fever_c,omitempty"`     // fever threshold, 35..40 °C
	KeyRegions []string `json:"key_regions,omitempty"` // regions whose returnees raise an alert
}

// Validate checks d.
func (d *Downlink) Validate() error {
	switch {
	case d.Kind == "":
		return missing("kind")
	case !d.Kind.Valid():
		return bad("kind", "unknown kind %q", d.Kind)
	case d.Site == "":
		return missing("site")
	case !ValidName(d.Site):
		return bad("site", "must be 1-64 letters, digits, '-' or '_', got %q", d.Site)
	case d.Kiosk != "" && !ValidName(d.Kiosk):
		return bad("kiosk", "must be 1-64 letters, digits, '-' or '_', got %q", d.Kiosk)
	case d.Version == 0:
		return bad("version", "must be at least 1")
	case d.Issued.IsZero():
		return missing("issued")
	case len(d.Payload) == 0:
		return missing("payload")
	}
	p := bytes.TrimSpace(d.Payload)
	if len(p) == 0 || p[0] != '{' || !json.Valid(p) {
		return bad("payload", "must be a JSON object")
	}
	return nil
}

// EncodeDownlink validates d and returns its wire form.
func EncodeDownlink(d Downlink) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		V int `json:"v"`
		Downlink
	}{Version, d})
}

// DecodeDownlink parses and validates a downlink message.
func DecodeDownlink(data []byte) (Downlink, error) {
	var w struct {
		Kind    *DownlinkKind   `json:"kind"`
		Site    *string         `json:"site"`
		Kiosk   string          `json:"kiosk"`
		Version *uint64         `json:"version"`
		Issued  *string         `json:"issued"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := decodeVersioned(data, &w); err != nil {
		return Downlink{}, err
	}
	switch {
	case w.Kind == nil:
		return Downlink{}, missing("kind")
	case w.Site == nil:
		return Downlink{}, missing("site")
	case w.Version == nil:
		return Downlink{}, missing("version")
	}
	t, err := parseTime("issued", w.Issued)
	if err != nil {
		return Downlink{}, err
	}
	d := Downlink{Kind: *w.Kind, Site: *w.Site, Kiosk: w.Kiosk, Version: *w.Version, Issued: t, Payload: w.Payload}
	return d, d.Validate()
}

// DecodeConfigPayload parses a "config" payload and checks its values.
func DecodeConfigPayload(data []byte) (ConfigPayload, error) {
	var c ConfigPayload
	if err := decodeJSON(data, &c); err != nil {
		return ConfigPayload{}, err
	}
	if c.FeverC != nil && (*c.FeverC < FeverMinC || *c.FeverC > FeverMaxC) {
		return ConfigPayload{}, bad("fever_c", "must be between %v and %v, got %v", FeverMinC, FeverMaxC, *c.FeverC)
	}
	for i, r := range c.KeyRegions {
		if r == "" || len(r) > 64 {
			return ConfigPayload{}, bad("key_regions", "entry %d must be 1-64 bytes", i)
		}
	}
	return c, nil
}

// PayloadVersion reads the "version" of a key set or status list payload
// without decoding the rest (0 when it has none), to tell which of two
// copies is newer; whoever uses the payload decodes and checks all of it.
func PayloadVersion(raw []byte) uint64 {
	var p struct {
		Version uint64 `json:"version"`
	}
	json.Unmarshal(raw, &p)
	return p.Version
}

// SignDownlink validates d and returns its wire form signed with the hub's
// downlink key: a Signed envelope (PurposeDownlink) around EncodeDownlink.
// Kiosks apply only downlinks that open with the key pinned at enrollment.
func SignDownlink(d Downlink, priv ed25519.PrivateKey) ([]byte, error) {
	body, err := EncodeDownlink(d)
	if err != nil {
		return nil, err
	}
	return Sign(PurposeDownlink, priv, body)
}

// OpenDownlink verifies a signed downlink against the hub's pinned
// downlink key and decodes it. Nothing of a message that does not verify
// (its version above all) may be stored or applied.
func OpenDownlink(data []byte, pub ed25519.PublicKey) (Downlink, error) {
	body, err := OpenSigned(data, PurposeDownlink, pub)
	if err != nil {
		return Downlink{}, fmt.Errorf("downlink: %w", err)
	}
	return DecodeDownlink(body)
}
