package protocol

import (
	"crypto/ed25519"
	"errors"
	"testing"
)

func vectorEntries(tb testing.TB) []Entry {
	tb.Helper()
	var es []Entry
	for _, ve := range loadChainVectors(tb)[0].Entries {
		e, err := DecodeEntry(ve.Entry)
		if err != nil {
			tb.Fatal(err)
		}
		es = append(es, e)
	}
	return es
}

// TestSignChain: a signature verifies for exactly what was signed; any
// change to an entry, the order, the kiosk, site or journal, or the key
// is refused with ErrSignature.
func TestSignChain(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	es := vectorEntries(t)
	links, err := ChainLinks(es)
	if err != nil {
		t.Fatal(err)
	}
	sig := SignChain(priv, "gate-1", "site-1", "j-1", links)
	if err := VerifyChain(pub, sig, "gate-1", "site-1", "j-1", links); err != nil {
		t.Fatalf("VerifyChain of what was signed: %v", err)
	}
	edited := append([]Entry(nil), es...)
	r := *edited[0].Temperature
	r.ScreenedC = 36.4
	edited[0].Temperature = &r
	editedLinks, _ := ChainLinks(edited)
	cases := map[string]func() error{
		"an edited temperature": func() error { return VerifyChain(pub, sig, "gate-1", "site-1", "j-1", editedLinks) },
		"entries left out":      func() error { return VerifyChain(pub, sig, "gate-1", "site-1", "j-1", links[1:]) },
		"another kiosk":         func() error { return VerifyChain(pub, sig, "gate-2", "site-1", "j-1", links) },
		"another site":          func() error { return VerifyChain(pub, sig, "gate-1", "site-2", "j-1", links) },
		"another journal":       func() error { return VerifyChain(pub, sig, "gate-1", "site-1", "j-2", links) },
		"another key":           func() error { return VerifyChain(otherPub, sig, "gate-1", "site-1", "j-1", links) },
		"no key":                func() error { return VerifyChain(nil, sig, "gate-1", "site-1", "j-1", links) },
		"no signature":          func() error { return VerifyChain(pub, "", "gate-1", "site-1", "j-1", links) },
		"garbage":               func() error { return VerifyChain(pub, "!!", "gate-1", "site-1", "j-1", links) },
	}
	for name, verify := range cases {
		if err := verify(); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: VerifyChain = %v, want ErrSignature", name, err)
		}
	}
}

// FuzzVerifyChain: any signature text is refused or verifies, never
// panics, and only the real one verifies.
func FuzzVerifyChain(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	es := vectorEntries(f)
	links, err := ChainLinks(es)
	if err != nil {
		f.Fatal(err)
	}
	real := SignChain(priv, "gate-1", "site-1", "j-1", links)
	f.Add(real, "gate-1")
	f.Add("", "")
	f.Add("AAAA", "gate-1")
	f.Fuzz(func(t *testing.T, sig, kiosk string) {
		err := VerifyChain(pub, sig, kiosk, "site-1", "j-1", links)
		if err == nil && (sig != real || kiosk != "gate-1") {
			t.Fatalf("VerifyChain(%q, %q) verified", sig, kiosk)
		}
	})
}

// A signature's text has one form: the same bytes with other padding bits
// are refused.
func TestVerifyChainIsStrict(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	links, _ := ChainLinks(vectorEntries(t))
	sig := SignChain(priv, "gate-1", "site-1", "j-1", links)
	last := sig[len(sig)-1]
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
		if byte(c) == last {
			continue
		}
		alt := sig[:len(sig)-1] + string(c)
		if VerifyChain(pub, alt, "gate-1", "site-1", "j-1", links) == nil {
			t.Fatalf("VerifyChain accepted %q, another text of %q", alt, sig)
		}
	}
}
