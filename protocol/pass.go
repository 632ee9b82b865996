package protocol

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// A pass is the entry pass (出入证) a resident shows at the gate: a short
// text in a QR code, signed by the hub, checked by the kiosk with no
// network. The text is
//
//	GP1:<Base45 of body || Ed25519 signature>
//
// "GP1:" names the format and its version; everything after it is in the
// QR alphanumeric alphabet, so a pass fits a 35 mm printed code at error
// correction level Q. The signature covers passDomain followed by the body,
// so a signature can never be replayed as another format's. The body is:
//
//	key id      u8 length, 1-16 of A-Z a-z 0-9 - _
//	pass id     u8 length, 1-32 of A-Z a-z 0-9 - _
//	kind        u8: 1 resident, 2 tenant, 3 staff, 4 volunteer
//	site        u8 length, a site id (ValidName)
//	unit        u8 length, 0-32 bytes of UTF-8 (building-room, "3-502")
//	name        u8 length, 0-32 bytes of UTF-8 (masked: "王*明")
//	valid from  u32 big-endian, Unix seconds
//	valid until u32 big-endian, Unix seconds
const (
	PassPrefix  = "GP1:"
	PassVersion = 1
	// MaxPassText bounds the scanned text a pass decoder looks at: the
	// longest body with its signature is 254 bytes, 381 Base45 characters.
	MaxPassText = 512
)

const passDomain = "gatepost pass v1\x00"

// Limits on a pass's fields, in bytes.
const (
	MaxPassKeyID = 16
	MaxPassID    = 32
	MaxPassUnit  = 32
	MaxPassName  = 32
)

// Errors ParsePass returns, for callers that branch on them. Each wraps
// ErrInvalid.
var (
	// ErrNotPass: the text is not a gatepost pass at all (another QR code).
	ErrNotPass = fmt.Errorf("%w: not a gatepost pass", ErrInvalid)
	// ErrPassVersion: a gatepost pass of a version this build cannot read.
	ErrPassVersion = fmt.Errorf("%w: pass of an unknown version", ErrInvalid)
	// ErrPassMalformed: "GP1:" but the rest is damaged, truncated or forged.
	ErrPassMalformed = fmt.Errorf("%w: damaged pass", ErrInvalid)
)

// PassKind says whose pass it is.
type PassKind string

// The kinds of pass.
const (
	PassResident  PassKind = "resident"
	PassTenant    PassKind = "tenant"
	PassStaff     PassKind = "staff"     // property management, security
	PassVolunteer PassKind = "volunteer" // gate volunteers: sign in for shifts with it
)

var passKinds = []PassKind{"", PassResident, PassTenant, PassStaff, PassVolunteer}

func passKindCode(k PassKind) byte {
	for i, v := range passKinds {
		if i > 0 && v == k {
			return byte(i)
		}
	}
	return 0
}

// Guard reports whether a pass of kind k may sign in for gate duty.
func (k PassKind) Guard() bool { return k == PassStaff || k == PassVolunteer }

var passIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Pass is what a pass says. Key names the hub key that signed it.
type Pass struct {
	Key        string    `json:"key"`
	ID         string    `json:"id"`
	Kind       PassKind  `json:"kind"`
	Site       string    `json:"site"`
	Unit       string    `json:"unit,omitempty"`
	Name       string    `json:"name,omitempty"` // masked display name
	ValidFrom  time.Time `json:"valid_from"`
	ValidUntil time.Time `json:"valid_until"`
}

// Validate checks every field of p.
func (p *Pass) Validate() error {
	switch {
	case len(p.Key) > MaxPassKeyID || !passIDPattern.MatchString(p.Key):
		return bad("key", "must be 1-%d letters, digits, '-' or '_', got %q", MaxPassKeyID, p.Key)
	case !passIDPattern.MatchString(p.ID):
		return bad("id", "must be 1-%d letters, digits, '-' or '_', got %q", MaxPassID, p.ID)
	case passKindCode(p.Kind) == 0:
		return bad("kind", "must be resident, tenant, staff or volunteer, got %q", p.Kind)
	case !ValidName(p.Site):
		return bad("site", "must be 1-64 letters, digits, '-' or '_', got %q", p.Site)
	}
	if err := checkLabel("unit", p.Unit, MaxPassUnit); err != nil {
		return err
	}
	if err := checkLabel("name", p.Name, MaxPassName); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"valid_from", p.ValidFrom}, {"valid_until", p.ValidUntil}} {
		if s := f.t.Unix(); s <= 0 || s > 0xFFFFFFFF {
			return bad(f.name, "must be between 1970 and 2106, got %s", f.t.Format(time.RFC3339))
		}
	}
	if !p.ValidUntil.After(p.ValidFrom) {
		return bad("valid_until", "must be after valid_from")
	}
	return nil
}

// checkLabel accepts short printable UTF-8: what a guard reads on a screen
// or a card must not carry control characters.
func checkLabel(field, s string, max int) error {
	switch {
	case len(s) > max:
		return bad(field, "longer than %d bytes", max)
	case !utf8.ValidString(s):
		return bad(field, "not valid UTF-8")
	case strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return bad(field, "holds unprintable characters: %q", s)
	}
	return nil
}

// SignedPass is a decoded pass whose signature is still to be checked.
type SignedPass struct {
	Pass
	body []byte // what was signed, after passDomain
	sig  []byte
}

// Verify reports whether pub signed s.
func (s *SignedPass) Verify(pub ed25519.PublicKey) bool {
	if len(pub) != ed25519.PublicKeySize {
		return false
	}
	return ed25519.Verify(pub, signedMessage(s.body), s.sig)
}

func signedMessage(body []byte) []byte {
	return append([]byte(passDomain), body...)
}

// SignPass validates p and returns its pass text, signed with priv. p.Key
// must name priv's key. Ed25519 is deterministic: the same pass and key
// always give the same text.
func SignPass(p Pass, priv ed25519.PrivateKey) (string, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return "", errors.New("sign pass: private key has the wrong size")
	}
	if err := p.Validate(); err != nil {
		return "", err
	}
	var b []byte
	str := func(s string) { b = append(append(b, byte(len(s))), s...) }
	str(p.Key)
	str(p.ID)
	b = append(b, passKindCode(p.Kind))
	str(p.Site)
	str(p.Unit)
	str(p.Name)
	b = binary.BigEndian.AppendUint32(b, uint32(p.ValidFrom.Unix()))
	b = binary.BigEndian.AppendUint32(b, uint32(p.ValidUntil.Unix()))
	sig := ed25519.Sign(priv, signedMessage(b))
	return PassPrefix + Base45Encode(append(b, sig...)), nil
}

// IsPassText reports whether text claims to be a gatepost pass of any
// version ("GP" digits ":"), whether or not it is a sound one.
func IsPassText(text string) bool {
	text = trimScan(text)
	if !strings.HasPrefix(text, "GP") {
		return false
	}
	i := 2
	for i < len(text) && i < 6 && text[i] >= '0' && text[i] <= '9' {
		i++
	}
	return i > 2 && i < len(text) && text[i] == ':'
}

// trimScan removes what a scanner may add around a code: white space and
// an AIM symbology identifier for QR codes ("]Q1").
func trimScan(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 3 && s[0] == ']' && s[1] == 'Q' && s[2] >= '0' && s[2] <= '6' {
		s = s[3:]
	}
	return s
}

// ParsePass decodes a scanned pass text without checking its signature
// (the caller knows the keys: see SignedPass.Verify). It returns
// ErrNotPass, ErrPassVersion or ErrPassMalformed (with the detail wrapped
// in the message), never panics, and looks at no more than MaxPassText
// bytes.
func ParsePass(text string) (*SignedPass, error) {
	text = trimScan(text)
	if !IsPassText(text) {
		return nil, ErrNotPass
	}
	if !strings.HasPrefix(text, PassPrefix) {
		return nil, fmt.Errorf("%w: %q (this build reads %q)", ErrPassVersion, text[:strings.IndexByte(text, ':')+1], PassPrefix)
	}
	if len(text) > MaxPassText {
		return nil, fmt.Errorf("%w: %d characters, over the %d limit", ErrPassMalformed, len(text), MaxPassText)
	}
	raw, err := Base45Decode(text[len(PassPrefix):])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPassMalformed, err)
	}
	if len(raw) < ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: too short to hold a signature", ErrPassMalformed)
	}
	body, sig := raw[:len(raw)-ed25519.SignatureSize], raw[len(raw)-ed25519.SignatureSize:]
	r := passReader{b: body}
	var p Pass
	p.Key = r.str()
	p.ID = r.str()
	kind := r.byte()
	p.Site = r.str()
	p.Unit = r.str()
	p.Name = r.str()
	from, until := r.u32(), r.u32()
	switch {
	case r.short:
		return nil, fmt.Errorf("%w: truncated", ErrPassMalformed)
	case len(r.b) != 0:
		return nil, fmt.Errorf("%w: %d unexpected bytes after the fields", ErrPassMalformed, len(r.b))
	case int(kind) >= len(passKinds) || kind == 0:
		return nil, fmt.Errorf("%w: unknown kind %d", ErrPassMalformed, kind)
	}
	p.Kind = passKinds[kind]
	p.ValidFrom = time.Unix(int64(from), 0).UTC()
	p.ValidUntil = time.Unix(int64(until), 0).UTC()
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPassMalformed, err)
	}
	return &SignedPass{Pass: p, body: body, sig: sig}, nil
}

// passReader reads the body's fields; past the end it returns zero values
// and sets short, so a truncated pass is one check, not one per field.
type passReader struct {
	b     []byte
	short bool
}

func (r *passReader) take(n int) []byte {
	if r.short || n > len(r.b) {
		r.short = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *passReader) byte() byte {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *passReader) str() string { return string(r.take(int(r.byte()))) }

func (r *passReader) u32() uint32 {
	if v := r.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}
