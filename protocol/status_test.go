package protocol

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestDownlinkVectors round-trips the key set and status list stored in
// the pass vectors: decode, encode, decode gives the same message.
func TestDownlinkVectors(t *testing.T) {
	v := loadPassVectors(t)
	ks, err := DecodeKeySet(v.KeySet)
	if err != nil {
		t.Fatal(err)
	}
	if k := ks.Find("k0"); k == nil || k.NotAfter == nil || k.Retired == nil {
		t.Fatalf("k0 = %+v, want retired with not_after", k)
	}
	enc, _ := EncodeKeySet(ks)
	if again, err := DecodeKeySet(enc); err != nil || again.Version != ks.Version || len(again.Keys) != len(ks.Keys) {
		t.Fatalf("key set round trip: %+v, %v", again, err)
	}
	sl, err := DecodeStatusList(v.StatusList)
	if err != nil {
		t.Fatal(err)
	}
	if e := sl.Find("R0000004"); e == nil || e.Status != StatusHomeObservation || !e.Active(v.Now) {
		t.Fatalf("R0000004 = %+v, want active home observation", e)
	}
	if e := sl.Find("R0000005"); e == nil || e.Active(v.Now) {
		t.Fatalf("R0000005 = %+v, want ended", e)
	}
	enc2, _ := EncodeStatusList(sl)
	sl2, err := DecodeStatusList(enc2)
	enc3, _ := EncodeStatusList(sl2)
	if err != nil || !bytes.Equal(enc2, enc3) {
		t.Fatalf("status list round trip: %v\n%s\n%s", err, enc2, enc3)
	}
}

func TestDownlinkRefused(t *testing.T) {
	for _, tc := range []struct {
		name, kind, wire, field string
	}{
		{"keys no version", "keys", `{"issued":"2026-03-01T00:00:00Z","keys":[]}`, "v"},
		{"keys newer version", "keys", `{"v":2}`, "v"},
		{"keys missing keys", "keys", `{"v":1,"version":1,"issued":"2026-03-01T00:00:00Z"}`, "keys"},
		{"keys short key", "keys", `{"v":1,"version":1,"issued":"2026-03-01T00:00:00Z","keys":[{"id":"k1","public_key":"AAAA","created":"2026-01-01T00:00:00Z"}]}`, "keys[0].public_key"},
		{"keys bad not_after", "keys", `{"v":1,"version":1,"issued":"2026-03-01T00:00:00Z","keys":[{"id":"k1","public_key":"6g5UXD7o+3DKwKMujcD8dkUo4UGzuUSxVRRALLxGcRA=","created":"2026-01-01T00:00:00Z","not_after":"soon"}]}`, "keys[0].not_after"},
		{"keys duplicate", "keys", `{"v":1,"version":1,"issued":"2026-03-01T00:00:00Z","keys":[{"id":"k1","public_key":"6g5UXD7o+3DKwKMujcD8dkUo4UGzuUSxVRRALLxGcRA=","created":"2026-01-01T00:00:00Z"},{"id":"k1","public_key":"6g5UXD7o+3DKwKMujcD8dkUo4UGzuUSxVRRALLxGcRA=","created":"2026-01-01T00:00:00Z"}]}`, "keys[1].id"},
		{"list version 0", "status", `{"v":1,"site":"s","version":0,"issued":"2026-03-01T00:00:00Z","entries":[]}`, "version"},
		{"list bad status", "status", `{"v":1,"site":"s","version":1,"issued":"2026-03-01T00:00:00Z","entries":[{"pass_id":"R1","status":"banned"}]}`, "entries[0].status"},
		{"list observation without end", "status", `{"v":1,"site":"s","version":1,"issued":"2026-03-01T00:00:00Z","entries":[{"pass_id":"R1","status":"home_observation"}]}`, "entries[0].until"},
		{"list reason with escape", "status", `{"v":1,"site":"s","version":1,"issued":"2026-03-01T00:00:00Z","entries":[{"pass_id":"R1","status":"revoked","reason":"\u001b[2J"}]}`, "entries[0].reason"},
		{"list duplicate", "status", `{"v":1,"site":"s","version":1,"issued":"2026-03-01T00:00:00Z","entries":[{"pass_id":"R1","status":"revoked"},{"pass_id":"R1","status":"revoked"}]}`, "entries[1].pass_id"},
		{"list entries wrong type", "status", `{"v":1,"site":"s","version":1,"issued":"2026-03-01T00:00:00Z","entries":{}}`, "entries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.kind == "keys" {
				_, err = DecodeKeySet([]byte(tc.wire))
			} else {
				_, err = DecodeStatusList([]byte(tc.wire))
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("decode(%s) error = %v, want a problem with %s", tc.wire, err, tc.field)
			}
		})
	}
	if _, err := DecodeStatusList([]byte(`{"v":1,"x":"` + strings.Repeat("a", MaxMessageBytes) + `"}`)); !errors.Is(err, ErrInvalid) {
		t.Errorf("oversized status list error = %v", err)
	}
}

func TestStatusEntryActive(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	end := now.Add(time.Hour)
	if e := (StatusEntry{Until: &end}); !e.Active(now) || e.Active(end) {
		t.Error("home observation should apply before its end and not from it")
	}
	if e := (StatusEntry{}); !e.Active(now) {
		t.Error("an entry without end should apply")
	}
}

func FuzzDecodeKeySet(f *testing.F) {
	f.Add([]byte(loadPassVectorsF(f).KeySet))
	f.Add([]byte(`{"v":1,"version":1,"issued":"2026-03-01T00:00:00Z","keys":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ks, err := DecodeKeySet(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		enc, err := EncodeKeySet(ks)
		if err != nil {
			t.Fatalf("EncodeKeySet(DecodeKeySet(%q)) = %v", data, err)
		}
		if _, err := DecodeKeySet(enc); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func FuzzDecodeStatusList(f *testing.F) {
	f.Add([]byte(loadPassVectorsF(f).StatusList))
	f.Add([]byte(`{"v":1,"site":"s","version":1,"issued":"2026-03-01T00:00:00Z","entries":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := DecodeStatusList(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		enc, err := EncodeStatusList(l)
		if err != nil {
			t.Fatalf("EncodeStatusList(DecodeStatusList(%q)) = %v", data, err)
		}
		again, err := DecodeStatusList(enc)
		if err != nil || len(again.Entries) != len(l.Entries) {
			t.Fatalf("re-decode: %v", err)
		}
	})
}
