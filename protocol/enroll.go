package protocol

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"
)

// Enrollment: an installer gives a kiosk a one-time code made at the hub;
// the kiosk proves its key with it and receives its broker credentials,
// the hub's downlink key and the CA to pin (docs/security.md).

// EnrollCodePrefix starts every enrollment code, so a scanner or a person
// can tell it from a pass.
const EnrollCodePrefix = "GPE1:"

var (
	codeAlphabet = base32.StdEncoding.WithPadding(base32.NoPadding)
	codePattern  = regexp.MustCompile(`^[A-Z2-7]{26}$`)
	fpPattern    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// EnrollCode is what `hub kiosks enroll` prints (as text and QR): where to
// enroll, the one-time secret, and the fingerprint of the CA the answer
// must come from.
type EnrollCode struct {
	Hub    string // host:port of the hub's enrollment listener
	Secret string // 26 base32 characters (128 bits)
	CA     string // SHA-256 of the hub CA certificate, hex
}

// NewEnrollSecret makes a fresh one-time secret.
func NewEnrollSecret() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails on Linux (crypto/rand)
	return codeAlphabet.EncodeToString(b)
}

// String is the code as printed: GPE1:HOST:PORT/SECRET/CA.
func (c EnrollCode) String() string { return EnrollCodePrefix + c.Hub + "/" + c.Secret + "/" + c.CA }

// ParseEnrollCode reads what String wrote; spaces and case in the secret
// are forgiven (a person may type it).
func ParseEnrollCode(s string) (EnrollCode, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), EnrollCodePrefix)
	if !ok {
		return EnrollCode{}, fmt.Errorf("%w: an enrollment code starts with %s (copy it whole from `hub kiosks enroll`)", ErrInvalid, EnrollCodePrefix)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return EnrollCode{}, fmt.Errorf("%w: an enrollment code is %sHOST:PORT/SECRET/CA; this one has %d parts", ErrInvalid, EnrollCodePrefix, len(parts))
	}
	c := EnrollCode{Hub: parts[0], Secret: strings.ToUpper(strings.ReplaceAll(parts[1], " ", "")), CA: strings.ToLower(parts[2])}
	if host, port, err := net.SplitHostPort(c.Hub); err != nil || host == "" || port == "" {
		return EnrollCode{}, fmt.Errorf("%w: enrollment code: %q is not HOST:PORT", ErrInvalid, clip(c.Hub))
	}
	if !codePattern.MatchString(c.Secret) {
		return EnrollCode{}, fmt.Errorf("%w: enrollment code: the secret is not 26 letters A-Z and digits 2-7", ErrInvalid)
	}
	if !fpPattern.MatchString(c.CA) {
		return EnrollCode{}, fmt.Errorf("%w: enrollment code: the CA fingerprint is not 64 hex digits", ErrInvalid)
	}
	return c, nil
}

// EnrollRequest is what a kiosk sends, signed with its own key
// (PurposeEnroll): the signature by the key named in it proves the kiosk
// holds that key.
type EnrollRequest struct {
	V         int       `json:"v"`
	Secret    string    `json:"secret"`
	Site      string    `json:"site"`
	Kiosk     string    `json:"kiosk"`
	PublicKey string    `json:"public_key"` // PublicKeyText
	Time      time.Time `json:"time"`
}

// EncodeEnrollRequest signs r with the kiosk's key.
func EncodeEnrollRequest(r EnrollRequest, priv ed25519.PrivateKey) ([]byte, error) {
	r.V = Version
	r.PublicKey = PublicKeyText(priv.Public().(ed25519.PublicKey))
	if err := r.validate(); err != nil {
		return nil, err
	}
	body, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return Sign(PurposeEnroll, priv, body)
}

// DecodeEnrollRequest checks a request's shape and that it is signed by
// the key it names, and returns it with that key.
func DecodeEnrollRequest(data []byte) (EnrollRequest, ed25519.PublicKey, error) {
	var env Signed
	if len(data) > 64<<10 {
		return EnrollRequest{}, nil, bad("enroll", "%d bytes, over the 64 KiB limit", len(data))
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return EnrollRequest{}, nil, fmt.Errorf("%w: enroll request: %v", ErrInvalid, err)
	}
	var r EnrollRequest
	if err := decodeJSON(env.Body, &r); err != nil {
		return EnrollRequest{}, nil, err
	}
	if err := r.validate(); err != nil {
		return EnrollRequest{}, nil, err
	}
	pub, err := ParsePublicKeyText(r.PublicKey)
	if err != nil {
		return EnrollRequest{}, nil, err
	}
	if _, err := OpenSigned(data, PurposeEnroll, pub); err != nil {
		return EnrollRequest{}, nil, err
	}
	return r, pub, nil
}

func (r EnrollRequest) validate() error {
	switch {
	case r.V != Version:
		return bad("v", "unknown version %d", r.V)
	case !codePattern.MatchString(r.Secret):
		return bad("secret", "not an enrollment secret")
	case !ValidName(r.Site):
		return bad("site", "%q is not a valid name", clip(r.Site))
	case !ValidName(r.Kiosk):
		return bad("kiosk", "%q is not a valid name", clip(r.Kiosk))
	case r.Time.IsZero():
		return missing("time")
	}
	_, err := ParsePublicKeyText(r.PublicKey)
	return err
}

// EnrollAnswer is what the hub sends back: everything the kiosk needs to
// join the closed broker and trust the hub.
type EnrollAnswer struct {
	V           int    `json:"v"`
	Site        string `json:"site"`
	Kiosk       string `json:"kiosk"`
	Broker      string `json:"broker"`       // tls://host:port (or tcp:// on loopback)
	Username    string `json:"username"`     // the broker login: SITE/KIOSK
	Secret      string `json:"secret"`       // the broker password: keep it 0600
	DownlinkKey string `json:"downlink_key"` // PublicKeyText of the hub's downlink key
	CA          string `json:"ca"`           // PEM of the hub CA (empty on a loopback-only hub)
}

// Validate checks an answer before a kiosk writes any of it.
func (a EnrollAnswer) Validate() error {
	switch {
	case a.V != Version:
		return bad("v", "unknown version %d", a.V)
	case !ValidName(a.Site) || !ValidName(a.Kiosk):
		return bad("site", "%q/%q is not a valid site and kiosk", clip(a.Site), clip(a.Kiosk))
	case !strings.HasPrefix(a.Broker, "tls://") && !strings.HasPrefix(a.Broker, "mqtts://") && !strings.HasPrefix(a.Broker, "tcp://"):
		return bad("broker", "%q is not a tls://, mqtts:// or tcp:// URL", clip(a.Broker))
	case a.Username != a.Site+"/"+a.Kiosk:
		return bad("username", "%q is not %s/%s", clip(a.Username), a.Site, a.Kiosk)
	case len(a.Secret) < 32:
		return bad("secret", "too short")
	}
	if _, err := ParsePublicKeyText(a.DownlinkKey); err != nil {
		return prefixed("downlink_key", err)
	}
	return nil
}
