package protocol

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"strings"
)

// Fingerprint names a kiosk's public key for people: the first 16 bytes
// of its SHA-256 in base32, in groups of four ("ABCD-EFGH-…"), short
// enough to compare by eye between `kiosk identity` and `hub kiosks list`.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16])
	var groups []string
	for len(s) > 4 {
		groups, s = append(groups, s[:4]), s[4:]
	}
	return strings.Join(append(groups, s), "-")
}

// PublicKeyText is how a kiosk's public key is written in commands and
// files: "ed25519:" and the key in unpadded base64url.
func PublicKeyText(pub ed25519.PublicKey) string {
	return "ed25519:" + base64.RawURLEncoding.EncodeToString(pub)
}

// ParsePublicKeyText reads what PublicKeyText wrote.
func ParsePublicKeyText(s string) (ed25519.PublicKey, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "ed25519:")
	if !ok {
		return nil, fmt.Errorf("%w: public key %q does not start with \"ed25519:\" (copy it whole from `kiosk identity`)", ErrInvalid, clip(s))
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	// One text per key: no line breaks inside, no stray low bits.
	if err != nil || len(b) != ed25519.PublicKeySize || base64.RawURLEncoding.EncodeToString(b) != rest {
		return nil, fmt.Errorf("%w: public key %q is not %d bytes of base64url (copy it whole from `kiosk identity`)", ErrInvalid, clip(s), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
