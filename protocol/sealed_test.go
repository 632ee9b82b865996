package protocol

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func testAnswer() EnrollAnswer {
	return EnrollAnswer{V: Version, Site: "huamu-1", Kiosk: "gate-1", Broker: "tls://hub.huamu.local:8883",
		Username: "huamu-1/gate-1", Secret: strings.Repeat("s", 43), DownlinkKey: PublicKeyText(seedKey(9).Public().(ed25519.PublicKey)),
		CA: "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"}
}

// The X25519 form of the public key must match the X25519 key derived from
// the private one, or no kiosk could open what the hub seals.
func TestX25519OfEd25519Agrees(t *testing.T) {
	for i := byte(1); i < 40; i++ {
		priv := seedKey(i)
		pub, err := x25519Public(priv.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		mine, err := x25519Private(priv)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pub.Bytes(), mine.PublicKey().Bytes()) {
			t.Fatalf("key %d: public map %x, private map %x", i, pub.Bytes(), mine.PublicKey().Bytes())
		}
	}
}

func TestEnrollFileOpensOnlyForItsKiosk(t *testing.T) {
	kiosk, other := seedKey(7), seedKey(8)
	a := testAnswer()
	data, err := SealEnrollAnswer(a, kiosk.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(a.Secret)) {
		t.Fatal("the broker secret is in the file in clear")
	}
	got, err := OpenEnrollFile(data, kiosk)
	if err != nil || got != a {
		t.Fatalf("OpenEnrollFile = %+v, %v; want %+v", got, err, a)
	}
	if _, err := OpenEnrollFile(data, other); !errors.Is(err, ErrNotForThisKiosk) {
		t.Fatalf("another kiosk opened it: %v", err)
	}

	// Altering any part is caught: the header is bound, the box sealed.
	var f EnrollFile
	json.Unmarshal(data, &f)
	for name, change := range map[string]func(*EnrollFile){
		"kiosk": func(f *EnrollFile) { f.Kiosk = "gate-2" },
		"site":  func(f *EnrollFile) { f.Site = "huamu-2" },
		"box":   func(f *EnrollFile) { f.Box = f.Box[:len(f.Box)-4] + "AAAA" },
		"ephemeral": func(f *EnrollFile) {
			f.Ephemeral = strings.Repeat("A", len(f.Ephemeral))
		},
	} {
		g := f
		change(&g)
		b, _ := json.Marshal(g)
		if _, err := OpenEnrollFile(b, kiosk); !errors.Is(err, ErrInvalid) {
			t.Errorf("altered %s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := SealEnrollAnswer(EnrollAnswer{}, kiosk.Public().(ed25519.PublicKey)); err == nil {
		t.Error("sealed an invalid answer")
	}
}

func TestSignedDownlink(t *testing.T) {
	hub, forger := seedKey(3), seedKey(4)
	d := Downlink{Kind: DownlinkConfig, Site: "huamu-1", Version: 7, Issued: time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC),
		Payload: json.RawMessage(`{"fever_c":37.5}`)}
	data, err := SignDownlink(d, hub)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenDownlink(data, hub.Public().(ed25519.PublicKey))
	if err != nil || got.Version != 7 || got.Site != d.Site || string(got.Payload) != `{"fever_c":37.5}` {
		t.Fatalf("OpenDownlink = %+v, %v", got, err)
	}
	forged, _ := SignDownlink(d, forger)
	if _, err := OpenDownlink(forged, hub.Public().(ed25519.PublicKey)); !errors.Is(err, ErrSignature) {
		t.Fatalf("a downlink signed by another key opened: %v", err)
	}
	plain, _ := EncodeDownlink(d)
	if _, err := OpenDownlink(plain, hub.Public().(ed25519.PublicKey)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an unsigned downlink opened: %v", err)
	}
	ack, _ := Sign(PurposeAck, hub, plain)
	if _, err := OpenDownlink(ack, hub.Public().(ed25519.PublicKey)); !errors.Is(err, ErrSignature) {
		t.Fatalf("a downlink signed for another purpose opened: %v", err)
	}
}

func FuzzOpenEnrollFile(f *testing.F) {
	kiosk := seedKey(7)
	good, _ := SealEnrollAnswer(testAnswer(), kiosk.Public().(ed25519.PublicKey))
	f.Add(good)
	f.Add([]byte(`{"type":"gatepost-enrollment","v":1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := OpenEnrollFile(data, kiosk)
		if err == nil {
			if verr := a.Validate(); verr != nil {
				t.Fatalf("opened an invalid answer: %v", verr)
			}
		}
	})
}

func FuzzOpenDownlink(f *testing.F) {
	hub := seedKey(3)
	good, _ := SignDownlink(Downlink{Kind: DownlinkKeys, Site: "s", Version: 1, Issued: time.Unix(1, 0).UTC(),
		Payload: json.RawMessage(`{}`)}, hub)
	f.Add(good)
	f.Add([]byte(`{"purpose":"downlink","key":"x","sig":"","body":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := OpenDownlink(data, hub.Public().(ed25519.PublicKey))
		if err == nil {
			if verr := d.Validate(); verr != nil {
				t.Fatalf("opened an invalid downlink: %v", verr)
			}
		}
	})
}
