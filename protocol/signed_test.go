package protocol

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
)

func seedKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func TestSignedRoundTripAndRefusals(t *testing.T) {
	hub, stranger := seedKey(1), seedKey(2)
	pub := hub.Public().(ed25519.PublicKey)
	body := []byte(`{"v":1, "kind":"config"}`)
	env, err := Sign(PurposeDownlink, hub, body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenSigned(env, PurposeDownlink, pub)
	if err != nil || string(got) != `{"v":1,"kind":"config"}` {
		t.Fatalf("OpenSigned = %s, %v", got, err)
	}
	forged, _ := Sign(PurposeDownlink, stranger, body)
	asAck, _ := Sign(PurposeAck, hub, body)
	altered := bytes.Replace(env, []byte(`"config"`), []byte(`"keys"`), 1)
	for name, data := range map[string][]byte{"a stranger's key": forged, "another purpose": asAck, "an altered body": altered} {
		if _, err := OpenSigned(data, PurposeDownlink, pub); !errors.Is(err, ErrSignature) || !errors.Is(err, ErrInvalid) {
			t.Errorf("OpenSigned(%s) = %v, want ErrSignature", name, err)
		}
	}
	for _, bad := range []string{``, `{}`, `[]`, `{"purpose":"downlink","key":"x","sig":"!!","body":{}}`,
		`{"purpose":"downlink","key":"x","sig":"AAAA","body":{}}`, `{"purpose":"downlink","sig":"x","body":{},"extra":1}`} {
		if _, err := OpenSigned([]byte(bad), PurposeDownlink, pub); !errors.Is(err, ErrInvalid) {
			t.Errorf("OpenSigned(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := Sign(PurposeDownlink, hub, []byte("not json")); err == nil {
		t.Error("Sign(not JSON) = nil")
	}
}

func FuzzOpenSigned(f *testing.F) {
	hub := seedKey(1)
	pub := hub.Public().(ed25519.PublicKey)
	env, _ := Sign(PurposeDownlink, hub, []byte(`{"v":1}`))
	f.Add(env)
	f.Add([]byte(`{"purpose":"downlink","key":"","sig":"","body":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		body, err := OpenSigned(data, PurposeDownlink, pub)
		if err == nil && !bytes.Contains(data, body) {
			t.Fatalf("OpenSigned accepted %q with a body it does not carry", data)
		}
	})
}
