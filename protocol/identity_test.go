package protocol

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
)

func TestFingerprintAndPublicKeyText(t *testing.T) {
	// A fixed key: the fingerprint is a contract between the kiosk's and
	// the hub's output, so it is pinned here.
	pub := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	if got, want := Fingerprint(pub), "COPD-SQHG-JNKJ-C4RA-RDM2-BV2B-MI"; got != want { // want computed independently in Python
		t.Errorf("Fingerprint(zero seed) = %q, want %q", got, want)
	}
	text := PublicKeyText(pub)
	back, err := ParsePublicKeyText(" " + text + "\n")
	if err != nil || !back.Equal(pub) {
		t.Fatalf("ParsePublicKeyText(%q) = %x, %v", text, back, err)
	}
	for _, bad := range []string{"", "ed25519:", "rsa:AAAA", "ed25519:" + strings.Repeat("A", 42), "ed25519:!!!", text + "AA"} {
		if _, err := ParsePublicKeyText(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParsePublicKeyText(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func FuzzParsePublicKeyText(f *testing.F) {
	f.Add("ed25519:" + strings.Repeat("A", 43))
	f.Add("ed25519:")
	f.Fuzz(func(t *testing.T, s string) {
		pub, err := ParsePublicKeyText(s)
		if err == nil && PublicKeyText(pub) != strings.TrimSpace(s) {
			t.Fatalf("ParsePublicKeyText(%q) accepted a key that does not write back the same", s)
		}
	})
}
