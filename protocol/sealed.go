package protocol

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// An enrollment file is the offline path's answer: `hub kiosks add` seals
// an EnrollAnswer to the kiosk's own key, an installer carries the file to
// the kiosk, and `kiosk enroll --file` opens it. Only the kiosk that holds
// the private key can read the broker secret inside, so a copied USB stick
// gives nothing away.
//
// The Ed25519 key is used for X25519 by the standard birational map
// (RFC 7748 section 4.1; the private scalar is the first half of
// SHA-512(seed), as Ed25519 itself derives it): an ephemeral X25519 key
// agrees a secret with the kiosk's, HKDF-SHA256 makes an AES-256-GCM key
// from it, and the header (site, kiosk, key fingerprint) is bound as
// additional data.

// EnrollFileType names an enrollment file's format.
const EnrollFileType = "gatepost-enrollment"

// EnrollFile is the wire form of a sealed enrollment answer.
type EnrollFile struct {
	Type      string `json:"type"` // EnrollFileType
	V         int    `json:"v"`
	Site      string `json:"site"`
	Kiosk     string `json:"kiosk"`
	Key       string `json:"key"`       // Fingerprint of the kiosk key it is sealed to
	Ephemeral string `json:"ephemeral"` // X25519 public key, base64url
	Box       string `json:"box"`       // nonce || AES-256-GCM(EnrollAnswer JSON), base64url
}

// ErrNotForThisKiosk is returned when an enrollment file was sealed to
// another kiosk's key.
var ErrNotForThisKiosk = errors.New("the enrollment file was made for another kiosk's key")

// SealEnrollAnswer validates a and seals it to the kiosk key pub.
func SealEnrollAnswer(a EnrollAnswer, pub ed25519.PublicKey) ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	to, err := x25519Public(pub)
	if err != nil {
		return nil, err
	}
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	f := EnrollFile{Type: EnrollFileType, V: Version, Site: a.Site, Kiosk: a.Kiosk, Key: Fingerprint(pub),
		Ephemeral: base64.RawURLEncoding.EncodeToString(eph.PublicKey().Bytes())}
	shared, err := eph.ECDH(to)
	if err != nil {
		return nil, err
	}
	aead, err := sealKey(shared, eph.PublicKey().Bytes(), to.Bytes())
	if err != nil {
		return nil, err
	}
	plain, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	f.Box = base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, f.header()))
	return json.MarshalIndent(f, "", "  ")
}

// OpenEnrollFile opens a sealed enrollment file with the kiosk's private
// key and returns the answer inside, validated and checked to be for the
// site and kiosk the file names.
func OpenEnrollFile(data []byte, priv ed25519.PrivateKey) (EnrollAnswer, error) {
	if len(data) > 256<<10 {
		return EnrollAnswer{}, bad("enrollment file", "%d bytes, over the 256 KiB limit", len(data))
	}
	var f EnrollFile
	if err := decodeJSON(data, &f); err != nil {
		return EnrollAnswer{}, fmt.Errorf("enrollment file: %w", err)
	}
	switch {
	case f.Type != EnrollFileType:
		return EnrollAnswer{}, bad("type", "%q is not %q: this is not an enrollment file from `hub kiosks add`", clip(f.Type), EnrollFileType)
	case f.V != Version:
		return EnrollAnswer{}, bad("v", "unknown version %d", f.V)
	case !ValidName(f.Site) || !ValidName(f.Kiosk):
		return EnrollAnswer{}, bad("site", "%q/%q is not a valid site and kiosk", clip(f.Site), clip(f.Kiosk))
	}
	pub := priv.Public().(ed25519.PublicKey)
	if f.Key != Fingerprint(pub) {
		return EnrollAnswer{}, fmt.Errorf("%w: it is sealed to key %s, this kiosk's key is %s (run `hub kiosks add` with what `kiosk identity` prints here)",
			ErrNotForThisKiosk, clip(f.Key), Fingerprint(pub))
	}
	ephBytes, err := base64.RawURLEncoding.DecodeString(f.Ephemeral)
	if err != nil {
		return EnrollAnswer{}, bad("ephemeral", "not base64url")
	}
	eph, err := ecdh.X25519().NewPublicKey(ephBytes)
	if err != nil {
		return EnrollAnswer{}, bad("ephemeral", "not an X25519 public key")
	}
	box, err := base64.RawURLEncoding.DecodeString(f.Box)
	if err != nil {
		return EnrollAnswer{}, bad("box", "not base64url")
	}
	mine, err := x25519Private(priv)
	if err != nil {
		return EnrollAnswer{}, err
	}
	shared, err := mine.ECDH(eph)
	if err != nil {
		return EnrollAnswer{}, bad("ephemeral", "unusable X25519 key")
	}
	aead, err := sealKey(shared, ephBytes, mine.PublicKey().Bytes())
	if err != nil {
		return EnrollAnswer{}, err
	}
	if len(box) < aead.NonceSize()+aead.Overhead() {
		return EnrollAnswer{}, bad("box", "too short")
	}
	plain, err := aead.Open(nil, box[:aead.NonceSize()], box[aead.NonceSize():], f.header())
	if err != nil {
		return EnrollAnswer{}, fmt.Errorf("%w: enrollment file altered or damaged", errors.Join(ErrInvalid, ErrSignature))
	}
	var a EnrollAnswer
	if err := decodeJSON(plain, &a); err != nil {
		return EnrollAnswer{}, fmt.Errorf("enrollment file: %w", err)
	}
	if err := a.Validate(); err != nil {
		return EnrollAnswer{}, err
	}
	if a.Site != f.Site || a.Kiosk != f.Kiosk {
		return EnrollAnswer{}, bad("enrollment file", "sealed answer is for %s/%s, the file says %s/%s", a.Site, a.Kiosk, f.Site, f.Kiosk)
	}
	return a, nil
}

func (f EnrollFile) header() []byte {
	return []byte(EnrollFileType + "\x00" + f.Site + "\x00" + f.Kiosk + "\x00" + f.Key)
}

func sealKey(shared, eph, to []byte) (cipher.AEAD, error) {
	salt := append(append([]byte{}, eph...), to...)
	key, err := hkdf.Key(sha256.New, shared, salt, "gatepost-v1 enrollment file", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// fieldP is 2^255 - 19.
var fieldP = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

// x25519Public maps an Ed25519 public key to its X25519 (Montgomery u)
// form: u = (1 + y) / (1 - y) mod p. It uses only public data.
func x25519Public(pub ed25519.PublicKey) (*ecdh.PublicKey, error) {
	if len(pub) != ed25519.PublicKeySize {
		return nil, bad("public key", "not %d bytes", ed25519.PublicKeySize)
	}
	le := append([]byte{}, pub...)
	le[31] &= 0x7f // the sign of x
	y := new(big.Int).SetBytes(reverse(le))
	if y.Cmp(fieldP) >= 0 {
		return nil, bad("public key", "not a point on Ed25519")
	}
	one := big.NewInt(1)
	num := new(big.Int).Add(one, y)
	den := new(big.Int).Sub(one, y)
	den.Mod(den, fieldP)
	if den.Sign() == 0 {
		return nil, bad("public key", "a degenerate Ed25519 point")
	}
	u := num.Mul(num, den.ModInverse(den, fieldP))
	u.Mod(u, fieldP)
	out := make([]byte, 32)
	u.FillBytes(out)
	return ecdh.X25519().NewPublicKey(reverse(out))
}

// x25519Private is the X25519 key of an Ed25519 private key: the scalar
// Ed25519 derives from its seed (X25519 clamps it the same way).
func x25519Private(priv ed25519.PrivateKey) (*ecdh.PrivateKey, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, bad("private key", "not %d bytes", ed25519.PrivateKeySize)
	}
	h := sha512.Sum512(priv.Seed())
	return ecdh.X25519().NewPrivateKey(h[:32])
}

func reverse(b []byte) []byte {
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}
