package protocol

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

// signedBatch is the chain vectors' entries as a batch signed by priv.
func signedBatch(tb testing.TB, priv ed25519.PrivateKey) Batch {
	tb.Helper()
	es := vectorEntries(tb)
	b := Batch{Kiosk: es[0].Kiosk, Site: "site-1", Journal: "j-1", Sent: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC), Entries: es}
	if err := SignBatch(priv, &b); err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestSignedBatchRoundTrip: a signed batch survives its wire form, both
// encoders write the same bytes for it, and the hub's check refuses an
// edited entry, an edited or missing signature and another key.
func TestSignedBatchRoundTrip(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	b := signedBatch(t, priv)
	want, err := EncodeBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	// The uplink's way: stored bodies and stored hashes, no re-encoding.
	links, _ := ChainLinks(b.Entries)
	var bodies [][]byte
	var fromStore []ChainLink
	for i, e := range b.Entries {
		body, _ := EncodeEntry(e)
		bodies = append(bodies, body)
		l, err := EncodedLink(e.Seq, body, links[i].Hash[:])
		if err != nil {
			t.Fatal(err)
		}
		fromStore = append(fromStore, l)
	}
	got, err := EncodeBatchOfEncoded(b.Kiosk, b.Site, b.Journal, b.Sent, bodies,
		SignChain(priv, b.Kiosk, b.Site, b.Journal, fromStore), 0)
	if err != nil || string(got) != string(want) {
		t.Fatalf("EncodeBatchOfEncoded signed =\n%s, %v\nwant\n%s", got, err, want)
	}
	d, err := DecodeBatchPayload(got)
	if err != nil || d.Sig != b.Sig {
		t.Fatalf("DecodeBatchPayload(signed) = sig %q, %v; want %q", d.Sig, err, b.Sig)
	}
	if err := VerifyBatch(pub, d); err != nil {
		t.Fatalf("VerifyBatch(decoded) = %v", err)
	}

	edited := d
	edited.Entries = append([]Entry(nil), d.Entries...)
	r := *edited.Entries[0].Temperature
	r.ScreenedC += 1
	edited.Entries[0].Temperature = &r
	resigned := d
	resigned.Sig = SignChain(priv, "gate-x", d.Site, d.Journal, links)
	unsigned := d
	unsigned.Sig = ""
	for name, c := range map[string]struct {
		pub ed25519.PublicKey
		b   Batch
	}{
		"a changed entry":     {pub, edited},
		"a changed signature": {pub, resigned},
		"another key":         {otherPub, d},
		"no signature":        {pub, unsigned},
	} {
		if err := VerifyBatch(c.pub, c.b); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: VerifyBatch = %v, want ErrSignature", name, err)
		}
	}
}

// TestBatchSigShape: the decoder refuses a sig that is present but empty
// or not a signature's text, naming the field.
func TestBatchSigShape(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	data, err := EncodeBatch(signedBatch(t, priv))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i := strings.Index(s, `"sig":"`)
	for _, sig := range []string{"", "AAAA", "not base64!", strings.Repeat("A", 86) + "=="} {
		bad := s[:i] + `"sig":"` + sig + `"}`
		_, err := DecodeBatchPayload([]byte(bad))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "sig" || !errors.Is(err, ErrInvalid) {
			t.Errorf("DecodeBatchPayload with sig %q = %v, want ErrInvalid naming sig", sig, err)
		}
	}
	if _, err := EncodeBatchOfEncoded("gate-1", "site-1", "", time.Now(), [][]byte{[]byte("{}")}, "AAAA", 0); err == nil {
		t.Error("EncodeBatchOfEncoded accepted a sig that is no signature")
	}
}

// TestSignedBundle: a bundle edited on the way (one temperature) with its
// checksum recomputed still decodes, and its signature no longer verifies.
func TestSignedBundle(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	es := vectorEntries(t)
	b := Bundle{Kiosk: es[0].Kiosk, Site: "site-1", Journal: "j-1", Exported: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC), Entries: es}
	if err := SignBundle(priv, &b); err != nil {
		t.Fatal(err)
	}
	data, err := EncodeBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeBundle(data)
	if err != nil || got.Sig != b.Sig {
		t.Fatalf("DecodeBundle = sig %q, %v; want %q", got.Sig, err, b.Sig)
	}
	if err := VerifyBundle(pub, got); err != nil {
		t.Fatalf("VerifyBundle = %v", err)
	}
	r := *got.Entries[0].Temperature
	r.ScreenedC += 0.5
	got.Entries[0].Temperature = &r
	data, err = EncodeBundle(got) // recomputes the checksum, keeps the sig
	if err != nil {
		t.Fatal(err)
	}
	edited, err := DecodeBundle(data)
	if err != nil {
		t.Fatalf("DecodeBundle(edited, checksum recomputed) = %v", err)
	}
	if err := VerifyBundle(pub, edited); !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), Fingerprint(pub)) {
		t.Errorf("VerifyBundle(edited) = %v, want ErrSignature naming the key's fingerprint", err)
	}
}

// TestEncodedLink: the link read from a stored body and hash is the one
// the hub computes, with or without the stored hash.
func TestEncodedLink(t *testing.T) {
	es := vectorEntries(t)
	links, _ := ChainLinks(es)
	for i, e := range es {
		body, _ := EncodeEntry(e)
		for _, hash := range [][]byte{links[i].Hash[:], nil} {
			got, err := EncodedLink(e.Seq, body, hash)
			want := links[i]
			want.Personal = [32]byte{} // kept by the hub, not read from a journal
			if err != nil || got != want {
				t.Errorf("EncodedLink(%d, hash %d bytes) = %+v, %v; want %+v", e.Seq, len(hash), got, err, want)
			}
		}
	}
	old := es[0]
	old.Prev = ""
	body, _ := EncodeEntry(old)
	got, err := EncodedLink(old.Seq, body, nil)
	if want := (ChainLink{Seq: old.Seq, Prev: Genesis, Hash: EntryHash(Genesis, old)}); err != nil || got != want {
		t.Errorf("EncodedLink(entry without prev) = %+v, %v; want %+v", got, err, want)
	}
}

// FuzzEncodedLink: any stored body gives a link or an error, never a
// panic.
func FuzzEncodedLink(f *testing.F) {
	for _, e := range vectorEntries(f) {
		body, _ := EncodeEntry(e)
		f.Add(body)
	}
	f.Add([]byte(`{"prev":"00`))
	f.Fuzz(func(t *testing.T, body []byte) {
		l, err := EncodedLink(1, body, nil)
		if err == nil && l.Seq != 1 {
			t.Fatalf("EncodedLink seq = %d", l.Seq)
		}
	})
}

// VerifyBatchLinks returns the links it checked (with each entry's
// personal digest, for the hub to keep) and none with an error; the links
// never reach the wire.
func TestVerifyBatchLinks(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	b := signedBatch(t, priv)
	links, err := VerifyBatchLinks(pub, b)
	want, _ := ChainLinks(b.Entries)
	if err != nil || len(links) != len(want) {
		t.Fatalf("VerifyBatchLinks = %d links, %v; want %d", len(links), err, len(want))
	}
	for i := range want {
		if links[i] != want[i] || links[i].Personal != PersonalDigest(b.Entries[i]) {
			t.Errorf("link %d = %+v, want %+v with the entry's personal digest", i, links[i], want[i])
		}
	}
	b.Links = links
	data, err := EncodeBatch(b)
	if err != nil || strings.Contains(string(data), "inks") {
		t.Errorf("a batch with links encodes as %.200s, %v; want no links on the wire", data, err)
	}
	if back, err := DecodeBatch(data); err != nil || back.Links != nil {
		t.Errorf("decoded links = %v, %v; want none", back.Links, err)
	}
	b.Entries[0].Unit = "9-999"
	if links, err := VerifyBatchLinks(pub, b); err == nil || links != nil {
		t.Errorf("VerifyBatchLinks of an edited batch = %d links, %v; want none and an error", len(links), err)
	}
}
