package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"
)

// vector is one shared test case: the wire form of a message and either
// no field (valid) or the field a decoder must name in its error.
type vector struct {
	Name  string          `json:"name"`
	Type  string          `json:"type"` // "batch" or "ack"
	Wire  json.RawMessage `json:"wire"`
	Raw   *string         `json:"raw"`   // wire bytes that are not JSON
	Field *string         `json:"field"` // "" for a non-field error
	// Plain is what a batch_payload decodes to, when it differs from Wire
	// (a compressed batch decodes to the plain batch inside).
	Plain json.RawMessage `json:"plain"`
}

func (v vector) bytes() []byte {
	if v.Raw != nil {
		return []byte(*v.Raw)
	}
	return v.Wire
}

func (v vector) valid() bool { return v.Field == nil }

func loadVectors(tb testing.TB) []vector {
	tb.Helper()
	data, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(data, &vs); err != nil {
		tb.Fatalf("testdata/vectors.json: %v", err)
	}
	return vs
}

func decode(typ string, data []byte) (encoded []byte, err error) {
	switch typ {
	case "batch":
		b, err := DecodeBatch(data)
		if err != nil {
			return nil, err
		}
		return EncodeBatch(b)
	case "ack":
		a, err := DecodeAck(data)
		if err != nil {
			return nil, err
		}
		return EncodeAck(a)
	case "batch_payload":
		b, err := DecodeBatchPayload(data)
		if err != nil {
			return nil, err
		}
		return EncodeBatch(b)
	case "status":
		s, err := DecodeStatus(data)
		if err != nil {
			return nil, err
		}
		return EncodeStatus(s)
	case "downlink":
		d, err := DecodeDownlink(data)
		if err != nil {
			return nil, err
		}
		return EncodeDownlink(d)
	}
	panic("unknown vector type " + typ)
}

func TestVectorsRoundTrip(t *testing.T) {
	for _, v := range loadVectors(t) {
		if !v.valid() {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			got, err := decode(v.Type, v.bytes())
			if err != nil {
				t.Fatalf("decode %s: %v", v.Type, err)
			}
			want := v.Wire
			if v.Plain != nil {
				want = v.Plain
			}
			if !jsonEqual(t, got, want) {
				t.Errorf("encode(decode(wire)) =\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestVectorsRejected(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.valid() {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			_, err := decode(v.Type, v.bytes())
			if err == nil {
				t.Fatalf("decode %s(%.80q) = nil error, want one naming %q", v.Type, v.bytes(), *v.Field)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			var fe *FieldError
			switch {
			case *v.Field == "":
				if errors.As(err, &fe) {
					t.Errorf("error %v names field %q, want a whole-message error", err, fe.Field)
				}
			case !errors.As(err, &fe):
				t.Errorf("error %v is not a *FieldError, want field %q", err, *v.Field)
			case fe.Field != *v.Field:
				t.Errorf("error %v names field %q, want %q", err, fe.Field, *v.Field)
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

func FuzzDecodeBatch(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeBatch(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("DecodeBatch error %v does not wrap ErrInvalid", err)
			}
			return
		}
		// What decodes must encode, and decode again to the same.
		enc, err := EncodeBatch(b)
		if err != nil {
			t.Fatalf("EncodeBatch(decoded) = %v", err)
		}
		if _, err := DecodeBatch(enc); err != nil {
			t.Fatalf("DecodeBatch(EncodeBatch(b)) = %v", err)
		}
	})
}

func FuzzDecodeAck(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := DecodeAck(data)
		if err != nil {
			return
		}
		if _, err := EncodeAck(a); err != nil {
			t.Fatalf("EncodeAck(decoded) = %v", err)
		}
	})
}

// Whatever the encoders accept, the decoders take back: an entry with no
// reasons at all (nil, as a record may be built) must not encode to
// something the hub refuses for ever.
func TestEncodedEntriesDecode(t *testing.T) {
	e := Entry{Kiosk: "gate-1", Seq: 7, ID: "0190d6e4-7a4b-7cc0-8b8e-000000000007",
		Time: time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC), Kind: KindDelivery, Decision: DecisionRecord, Count: 2}
	body, err := EncodeEntry(e)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEntry(body)
	if err != nil {
		t.Fatalf("DecodeEntry(%s): %v", body, err)
	}
	if got.Reasons == nil || len(got.Reasons) != 0 {
		t.Errorf("reasons %#v, want empty", got.Reasons)
	}
	b := Batch{Kiosk: "gate-1", Site: "site-1", Sent: e.Time, Entries: []Entry{e}}
	for name, enc := range map[string]func() ([]byte, error){
		"EncodeBatch":        func() ([]byte, error) { return EncodeBatch(b) },
		"EncodeBatchPayload": func() ([]byte, error) { return EncodeBatchPayload(b, 0) },
		"EncodeBatchOfEncoded": func() ([]byte, error) {
			return EncodeBatchOfEncoded("gate-1", "site-1", "", e.Time, [][]byte{body}, "", 0)
		},
	} {
		data, err := enc()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := DecodeBatchPayload(data); err != nil {
			t.Errorf("%s then DecodeBatchPayload: %v", name, err)
		}
	}
	if b.Entries[0].Reasons != nil {
		t.Error("EncodeBatch changed the caller's entries")
	}
}
