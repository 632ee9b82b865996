package protocol

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"
)

func FuzzDecodeBatchPayload(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.bytes())
	}
	_, priv, _ := ed25519.GenerateKey(nil)
	signed, err := EncodeBatch(signedBatch(f, priv))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBatchPayload(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("DecodeBatchPayload error %v does not wrap ErrInvalid", err)
			}
			return
		}
		enc, err := EncodeBatchPayload(b, 1)
		if err != nil {
			t.Fatalf("EncodeBatchPayload(decoded) = %v", err)
		}
		again, err := DecodeBatchPayload(enc)
		if err != nil {
			t.Fatalf("DecodeBatchPayload(EncodeBatchPayload(b)) = %v", err)
		}
		if again.Sig != b.Sig {
			t.Fatalf("sig %q became %q", b.Sig, again.Sig)
		}
	})
}

func FuzzDecodeStatus(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeStatus(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("DecodeStatus error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if _, err := EncodeStatus(s); err != nil {
			t.Fatalf("EncodeStatus(decoded) = %v", err)
		}
	})
}

func FuzzDecodeDownlink(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := DecodeDownlink(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("DecodeDownlink error %v does not wrap ErrInvalid", err)
			}
			return
		}
		enc, err := EncodeDownlink(d)
		if err != nil {
			t.Fatalf("EncodeDownlink(decoded) = %v", err)
		}
		if _, err := DecodeDownlink(enc); err != nil {
			t.Fatalf("DecodeDownlink(EncodeDownlink(d)) = %v", err)
		}
	})
}

func FuzzDecodeBundle(f *testing.F) {
	good, err := EncodeBundle(testBundle(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	_, priv, _ := ed25519.GenerateKey(nil)
	sb := testBundle(f)
	if err := SignBundle(priv, &sb); err != nil {
		f.Fatal(err)
	}
	if good, err = EncodeBundle(sb); err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("not gzip"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBundle(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("DecodeBundle error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if _, err := EncodeBundle(b); err != nil {
			t.Fatalf("EncodeBundle(decoded) = %v", err)
		}
	})
}

func testBundle(tb testing.TB) Bundle {
	tb.Helper()
	at := time.Date(2026, 2, 1, 8, 30, 0, 0, time.UTC)
	b := Bundle{Kiosk: "gate-1", Site: "huamu-1", Exported: at}
	for seq := uint64(5); seq <= 7; seq++ {
		b.Entries = append(b.Entries, Entry{Kiosk: "gate-1", Seq: seq, ID: "0190d6e4-7a4b-7cc0-8b8e-2f5c1f3e9a1" + string(rune('0'+seq)),
			Time: at, Kind: KindDelivery, Decision: DecisionRecord, Reasons: []string{}})
	}
	return b
}

func TestBundleCarriesTheJournal(t *testing.T) {
	b := testBundle(t)
	b.Journal = "0190d6e4-0000-7000-8000-0000000000b1"
	data, err := EncodeBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeBundle(data)
	if err != nil || got.Journal != b.Journal {
		t.Fatalf("DecodeBundle(EncodeBundle(b)) journal = %q, %v; want %q", got.Journal, err, b.Journal)
	}
	b.Journal = "a b"
	_, err = EncodeBundle(b)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "journal" {
		t.Errorf("EncodeBundle with journal %q = %v, want an error naming journal", b.Journal, err)
	}
}

func TestBundleRoundTripAndDamage(t *testing.T) {
	data, err := EncodeBundle(testBundle(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := DecodeBundle(data)
	if err != nil {
		t.Fatalf("DecodeBundle(EncodeBundle(b)) = %v", err)
	}
	if b.From != 5 || b.To != 7 || len(b.Entries) != 3 {
		t.Errorf("DecodeBundle = from %d to %d, %d entries; want 5..7, 3", b.From, b.To, len(b.Entries))
	}
	b.Entries[1].Scan = "tampered"
	bad, err := EncodeBundle(b) // recomputes the sum: tamper with the sum instead
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeBundle(bad); err != nil {
		t.Fatalf("re-encoded bundle refused: %v", err)
	}
	b.SHA256 = "00"
	if err := b.Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Validate with a wrong checksum = %v, want ErrInvalid", err)
	}
	if _, err := DecodeBundle(data[:len(data)/2]); !errors.Is(err, ErrInvalid) {
		t.Errorf("DecodeBundle(truncated) = %v, want ErrInvalid", err)
	}
}

func TestEncodeBatchPayloadCompressesLargeBatches(t *testing.T) {
	tb := testBundle(t)
	b := Batch{Kiosk: "gate-1", Site: "huamu-1", Sent: tb.Exported, Entries: tb.Entries}
	plain, _ := EncodeBatch(b)
	small, err := EncodeBatchPayload(b, len(plain))
	if err != nil || string(small) != string(plain) {
		t.Fatalf("EncodeBatchPayload at the threshold = %s, %v; want the plain batch", small, err)
	}
	for i := 0; i < 200; i++ {
		e := tb.Entries[0]
		e.Seq = uint64(100 + i)
		b.Entries = append(b.Entries[:0:0], b.Entries...)
		b.Entries = append(b.Entries, e)
	}
	plain, _ = EncodeBatch(b)
	z, err := EncodeBatchPayload(b, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if len(z)*3 > len(plain) {
		t.Errorf("compressed %d bytes to %d; want at least 3x smaller", len(plain), len(z))
	}
	got, err := DecodeBatchPayload(z)
	if err != nil || len(got.Entries) != len(b.Entries) {
		t.Fatalf("DecodeBatchPayload(compressed) = %d entries, %v; want %d", len(got.Entries), err, len(b.Entries))
	}
}

func TestEncodeBatchOfEncodedMatchesEncodeBatch(t *testing.T) {
	tb := testBundle(t)
	b := Batch{Kiosk: "gate-1", Site: "huamu-1", Sent: time.Date(2026, 2, 1, 8, 33, 0, 123, time.FixedZone("", 8*3600)), Entries: tb.Entries}
	want, err := EncodeBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	var raw [][]byte
	for _, e := range b.Entries {
		body, _ := EncodeEntry(e)
		raw = append(raw, body)
	}
	got, err := EncodeBatchOfEncoded(b.Kiosk, b.Site, "", b.Sent, raw, "", 0)
	if err != nil || string(got) != string(want) {
		t.Fatalf("EncodeBatchOfEncoded =\n%s, %v\nwant\n%s", got, err, want)
	}
	b.Journal = "0190d6e4-0000-7000-8000-000000000a01"
	want, err = EncodeBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err = EncodeBatchOfEncoded(b.Kiosk, b.Site, b.Journal, b.Sent, raw, "", 0)
	if err != nil || string(got) != string(want) {
		t.Fatalf("EncodeBatchOfEncoded with a journal =\n%s, %v\nwant\n%s", got, err, want)
	}
	if d, err := DecodeBatchPayload(got); err != nil || d.Journal != b.Journal {
		t.Fatalf("DecodeBatchPayload(raw batch with a journal) = journal %q, %v; want %q", d.Journal, err, b.Journal)
	}
	z, err := EncodeBatchOfEncoded(b.Kiosk, b.Site, b.Journal, b.Sent, raw, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := DecodeBatchPayload(z); err != nil || len(d.Entries) != len(b.Entries) || d.Journal != b.Journal {
		t.Fatalf("DecodeBatchPayload(compressed raw batch) = %d entries, journal %q, %v", len(d.Entries), d.Journal, err)
	}
	if _, err := EncodeBatchOfEncoded("bad/kiosk", b.Site, "", b.Sent, raw, "", 0); err == nil {
		t.Error("EncodeBatchOfEncoded accepted a bad kiosk id")
	}
	if _, err := EncodeBatchOfEncoded(b.Kiosk, b.Site, `j"1`, b.Sent, raw, "", 0); err == nil {
		t.Error("EncodeBatchOfEncoded accepted a bad journal id")
	}
}
