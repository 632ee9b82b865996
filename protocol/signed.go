package protocol

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// Purpose says what a signature is for. It is signed with the body, so a
// signature made for one purpose (a downlink) can never be replayed as
// another (an ack), even with the same key.
type Purpose string

// The purposes.
const (
	PurposeDownlink Purpose = "downlink" // hub -> kiosk: config, keys, status_list
	PurposeAck      Purpose = "ack"      // hub -> kiosk
	PurposeEnroll   Purpose = "enroll"   // kiosk -> hub: proof of the kiosk key at enrollment
	PurposeBatch    Purpose = "batch"    // kiosk -> hub
)

// ErrSignature is wrapped by every signature failure, so callers can count
// and log forgeries apart from malformed messages.
var ErrSignature = errors.New("signature does not verify")

// MaxSignedBody bounds what a signed envelope may carry.
const MaxSignedBody = 4 << 20

// Signed is a message with its signer's signature: Body is the exact bytes
// that were signed (a JSON message of its own), so nothing is
// re-encoded between signing and checking.
type Signed struct {
	Purpose Purpose         `json:"purpose"`
	Key     string          `json:"key"` // the signer's key fingerprint (Fingerprint)
	Sig     string          `json:"sig"` // Ed25519 over signedBytes, base64url
	Body    json.RawMessage `json:"body"`
}

func signedBytes(p Purpose, body []byte) []byte {
	return append([]byte("gatepost-v1\x00"+string(p)+"\x00"), body...)
}

// Sign wraps body, which must be one JSON value, in an envelope signed
// with priv for purpose p.
func Sign(p Purpose, priv ed25519.PrivateKey, body []byte) ([]byte, error) {
	if !json.Valid(body) {
		return nil, fmt.Errorf("%w: sign: body is not JSON", ErrInvalid)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		return nil, err
	}
	body = compact.Bytes()
	return json.Marshal(Signed{
		Purpose: p,
		Key:     Fingerprint(priv.Public().(ed25519.PublicKey)),
		Sig:     base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, signedBytes(p, body))),
		Body:    body,
	})
}

// OpenSigned checks that data is an envelope for purpose p signed by pub
// and returns the body. A malformed envelope wraps ErrInvalid; a wrong
// key, purpose or signature wraps ErrSignature too. Nothing in a body
// that does not verify should be looked at, let alone stored.
func OpenSigned(data []byte, p Purpose, pub ed25519.PublicKey) ([]byte, error) {
	if len(data) > MaxSignedBody {
		return nil, bad("signed", "%d bytes, over the %d limit", len(data), MaxSignedBody)
	}
	var s Signed
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: signed envelope: %v", ErrInvalid, err)
	}
	switch {
	case s.Purpose == "":
		return nil, missing("purpose")
	case len(s.Body) == 0:
		return nil, missing("body")
	case s.Sig == "":
		return nil, missing("sig")
	}
	sig, err := base64.RawURLEncoding.DecodeString(s.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, bad("sig", "not an Ed25519 signature in base64url")
	}
	if s.Purpose != p {
		return nil, fmt.Errorf("%w: signed for %q, not %q", errors.Join(ErrInvalid, ErrSignature), s.Purpose, p)
	}
	if s.Key != Fingerprint(pub) {
		return nil, fmt.Errorf("%w: signed by key %s, not the pinned %s", errors.Join(ErrInvalid, ErrSignature), s.Key, Fingerprint(pub))
	}
	if !ed25519.Verify(pub, signedBytes(p, s.Body), sig) {
		return nil, fmt.Errorf("%w: %s message altered or forged", errors.Join(ErrInvalid, ErrSignature), p)
	}
	return s.Body, nil
}
