package protocol

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEnrollCodeRoundTrip(t *testing.T) {
	c := EnrollCode{Hub: "hub.huamu.local:8443", Secret: NewEnrollSecret(), CA: strings.Repeat("ab", 32)}
	back, err := ParseEnrollCode(" " + c.String() + "\n")
	if err != nil || back != c {
		t.Fatalf("ParseEnrollCode(%q) = %+v, %v", c.String(), back, err)
	}
	typed := EnrollCodePrefix + c.Hub + "/" + strings.ToLower(c.Secret[:10]) + " " + c.Secret[10:] + "/" + strings.ToUpper(c.CA)
	if back, err := ParseEnrollCode(typed); err != nil || back != c {
		t.Fatalf("a typed code (lower case, a space) = %+v, %v", back, err)
	}
	if NewEnrollSecret() == NewEnrollSecret() {
		t.Fatal("two secrets are equal")
	}
	for _, bad := range []string{"", "GP1:abc", "GPE1:", "GPE1:host/secret", "GPE1:host/" + c.Secret + "/" + c.CA,
		"GPE1:host:1/short/" + c.CA, "GPE1:host:1/" + c.Secret + "/xyz", "GPE1:host:1/" + c.Secret + "/" + c.CA + "/more"} {
		if _, err := ParseEnrollCode(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseEnrollCode(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestEnrollRequestProvesTheKey(t *testing.T) {
	kiosk := seedKey(7)
	r := EnrollRequest{Secret: NewEnrollSecret(), Site: "huamu-1", Kiosk: "gate-1", Time: time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)}
	data, err := EncodeEnrollRequest(r, kiosk)
	if err != nil {
		t.Fatal(err)
	}
	got, pub, err := DecodeEnrollRequest(data)
	if err != nil || got.Kiosk != "gate-1" || !pub.Equal(kiosk.Public()) {
		t.Fatalf("DecodeEnrollRequest = %+v, %v", got, err)
	}
	// Someone swaps in their own public key but keeps the kiosk's signature.
	other := PublicKeyText(seedKey(8).Public().(ed25519.PublicKey))
	swapped := bytes.Replace(data, []byte(got.PublicKey), []byte(other), 1)
	if _, _, err := DecodeEnrollRequest(swapped); !errors.Is(err, ErrSignature) {
		t.Fatalf("a request naming another key = %v, want ErrSignature", err)
	}
	moved := bytes.Replace(data, []byte(`"gate-1"`), []byte(`"gate-2"`), 1)
	if _, _, err := DecodeEnrollRequest(moved); !errors.Is(err, ErrSignature) {
		t.Fatalf("a request moved to another kiosk = %v, want ErrSignature", err)
	}
	if _, err := EncodeEnrollRequest(EnrollRequest{Site: "huamu-1", Kiosk: "gate-1", Time: r.Time}, kiosk); err == nil {
		t.Fatal("a request without a secret was encoded")
	}
}

func TestEnrollAnswerValidate(t *testing.T) {
	good := EnrollAnswer{V: Version, Site: "huamu-1", Kiosk: "gate-1", Broker: "tls://hub:8883", Username: "huamu-1/gate-1",
		Secret: strings.Repeat("s", 43), DownlinkKey: PublicKeyText(seedKey(1).Public().(ed25519.PublicKey))}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*EnrollAnswer){
		"version":  func(a *EnrollAnswer) { a.V = 9 },
		"broker":   func(a *EnrollAnswer) { a.Broker = "http://hub" },
		"username": func(a *EnrollAnswer) { a.Username = "huamu-1/gate-2" },
		"secret":   func(a *EnrollAnswer) { a.Secret = "x" },
		"key":      func(a *EnrollAnswer) { a.DownlinkKey = "ed25519:xx" },
		"site":     func(a *EnrollAnswer) { a.Site = "a b" },
	} {
		a := good
		mutate(&a)
		if err := a.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate = %v, want ErrInvalid", name, err)
		}
	}
}

func FuzzParseEnrollCode(f *testing.F) {
	f.Add("GPE1:hub:8443/" + strings.Repeat("A", 26) + "/" + strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseEnrollCode(s)
		if err != nil {
			return
		}
		if again, err := ParseEnrollCode(c.String()); err != nil || again != c {
			t.Fatalf("ParseEnrollCode(%q) = %+v, but its String does not read back: %+v, %v", s, c, again, err)
		}
	})
}

func FuzzDecodeEnrollRequest(f *testing.F) {
	data, _ := EncodeEnrollRequest(EnrollRequest{Secret: strings.Repeat("A", 26), Site: "s", Kiosk: "k", Time: time.Unix(1, 0)}, seedKey(3))
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, pub, err := DecodeEnrollRequest(data)
		if err == nil && PublicKeyText(pub) != r.PublicKey {
			t.Fatalf("decoded a request whose key is not the one it names")
		}
	})
}
