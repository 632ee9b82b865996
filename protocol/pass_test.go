package protocol

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestBase45RFC9285(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"AB", "BB8"}, {"Hello!!", "%69 VD92EX0"}, {"base-45", "UJCLQE7W581"}, {"ietf!", "QED8WEX0"}, {"", ""},
	} {
		if got := Base45Encode([]byte(tc.in)); got != tc.out {
			t.Errorf("Base45Encode(%q) = %q, want %q", tc.in, got, tc.out)
		}
		if got, err := Base45Decode(tc.out); err != nil || string(got) != tc.in {
			t.Errorf("Base45Decode(%q) = %q, %v, want %q", tc.out, got, err, tc.in)
		}
	}
	for _, bad := range []string{"A", "GGW", "abc", "ZZ", ":::"} {
		if _, err := Base45Decode(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Base45Decode(%q) error = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestSignPassRefusesBadPasses(t *testing.T) {
	priv := testKey("k1")
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	good := Pass{Key: "k1", ID: "R1", Kind: PassResident, Site: "s", Unit: "1-101", Name: "王*明", ValidFrom: now, ValidUntil: now.Add(time.Hour)}
	if _, err := SignPass(good, priv); err != nil {
		t.Fatalf("SignPass(good) = %v", err)
	}
	for _, tc := range []struct {
		field string
		edit  func(p *Pass)
	}{
		{"key", func(p *Pass) { p.Key = "" }},
		{"key", func(p *Pass) { p.Key = strings.Repeat("k", 17) }},
		{"id", func(p *Pass) { p.ID = "R 1" }},
		{"kind", func(p *Pass) { p.Kind = "visitor" }},
		{"site", func(p *Pass) { p.Site = "a/b" }},
		{"unit", func(p *Pass) { p.Unit = strings.Repeat("9", 33) }},
		{"name", func(p *Pass) { p.Name = "王\x1b[31m明" }},
		{"name", func(p *Pass) { p.Name = "\xff" }},
		{"valid_from", func(p *Pass) { p.ValidFrom = time.Unix(0, 0) }},
		{"valid_until", func(p *Pass) { p.ValidUntil = time.Date(2107, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"valid_until", func(p *Pass) { p.ValidUntil = p.ValidFrom }},
	} {
		p := good
		tc.edit(&p)
		_, err := SignPass(p, priv)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("SignPass(%+v) error = %v, want a problem with %s", p, err, tc.field)
		}
	}
	if _, err := SignPass(good, priv[:10]); err == nil {
		t.Error("SignPass with a short key succeeded")
	}
}

// TestPassLongestFits signs the longest pass the format allows and checks
// it stays within MaxPassText, so the limit never refuses a real pass.
func TestPassLongestFits(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	p := Pass{Key: strings.Repeat("k", MaxPassKeyID), ID: strings.Repeat("I", MaxPassID), Kind: PassVolunteer,
		Site: strings.Repeat("s", 64), Unit: strings.Repeat("u", MaxPassUnit), Name: strings.Repeat("n", MaxPassName),
		ValidFrom: now, ValidUntil: now.Add(time.Hour)}
	text, err := SignPass(p, testKey("k"))
	if err != nil {
		t.Fatal(err)
	}
	if len(text) > MaxPassText {
		t.Fatalf("longest pass is %d characters, over MaxPassText %d", len(text), MaxPassText)
	}
	sp, err := ParsePass(text)
	if err != nil || !passEqual(sp.Pass, p) || !sp.Verify(testKey("k").Public().(ed25519.PublicKey)) {
		t.Fatalf("ParsePass(longest) = %+v, %v", sp, err)
	}
}

func TestIsPassText(t *testing.T) {
	for in, want := range map[string]bool{
		"GP1:ABC": true, "GP12:": true, "GP12:X": true, "GP:": false, "GPX:": false, "gp1:abc": false,
		" GP1:ABC\r\n": true, "]Q1GP1:A": true, "": false, "GP1234567:": false,
	} {
		if got := IsPassText(in); got != want {
			t.Errorf("IsPassText(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzBase45(f *testing.F) {
	for _, s := range []string{"", "AB", "%69 VD92EX0", "GGW", "A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := Base45Decode(s)
		if err != nil {
			return
		}
		if again := Base45Encode(b); again != s {
			t.Fatalf("Base45Encode(Base45Decode(%q)) = %q", s, again)
		}
	})
}

// FuzzParsePass: any text is either refused with ErrInvalid or decodes to
// a pass that validates and whose signed body re-signs to the same bytes.
func FuzzParsePass(f *testing.F) {
	v := loadPassVectorsF(f)
	for _, c := range v.Cases {
		f.Add(c.scanned())
	}
	priv := testKey("fuzz")
	f.Fuzz(func(t *testing.T, text string) {
		sp, err := ParsePass(text)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParsePass(%q) error %v does not wrap ErrInvalid", text, err)
			}
			return
		}
		if err := sp.Validate(); err != nil {
			t.Fatalf("ParsePass(%q) gave an invalid pass: %v", text, err)
		}
		resigned, err := SignPass(sp.Pass, priv)
		if err != nil {
			t.Fatalf("SignPass(ParsePass(%q)) = %v", text, err)
		}
		again, err := ParsePass(resigned)
		if err != nil || !bytes.Equal(again.body, sp.body) {
			t.Fatalf("re-signed body differs: %v", err)
		}
	})
}

func loadPassVectorsF(f *testing.F) passVectors { return loadPassVectors(f) }
