package protocol

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// The chain: every entry a kiosk journals names the hash of the entry
// before it in its journal (Entry.Prev), so that an entry altered,
// removed or slipped in after it was written shows in the hashes that
// follow it. The hash is SHA-256 over a canonical encoding specified in
// docs/protocol.md ("The entry chain") with vectors in
// testdata/chain.json; the kiosk's journal and the hub both compute it
// with EntryHash, and the hash itself never travels: the hub recomputes
// it from what it receives.

// ChainDomain begins every hashed encoding, so that an entry hash can
// never be taken for a hash of anything else.
const ChainDomain = "gatepost entry v1\x00"

// Genesis is the Prev of a journal's first entry: 32 zero bytes.
var Genesis [32]byte

// EntryHash returns the chain hash of e after the entry whose hash is
// prev. e.Prev is not read (prev is); the personal fields enter through
// PersonalDigest, so that a purge may remove them and keep the hash
// checkable (EntryHashWith).
func EntryHash(prev [32]byte, e Entry) [32]byte {
	return EntryHashWith(prev, PersonalDigest(e), e)
}

// EntryHashWith is EntryHash with the personal digest given: the hub
// verifies a purged entry, whose personal fields are gone, with the
// digest it kept.
func EntryHashWith(prev, personal [32]byte, e Entry) [32]byte {
	public := canonicalPublic(e)
	h := sha256.New()
	h.Write([]byte(ChainDomain))
	h.Write(prev[:])
	h.Write(personal[:])
	h.Write(public)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// PersonalDigest returns SHA-256 over the JSON array of e's personal
// fields, in this order: scan, visitor name, contact, from, purpose
// ("" for each that is absent). These are what retention purges.
func PersonalDigest(e Entry) [32]byte {
	var buf [256]byte
	return sha256.Sum256(personalJSON(buf[:0], &e))
}

// canonicalPublic is e as EncodeValidEntry writes it with prev and the
// personal fields left out and the time in UTC.
func canonicalPublic(e Entry) []byte {
	data, err := encodeEntry(e, true)
	if err != nil { // an Entry holds nothing json cannot marshal
		panic(err)
	}
	return data
}

// HashText is h as Entry.Prev carries it: 64 lowercase hex digits.
func HashText(h [32]byte) string { return hex.EncodeToString(h[:]) }

// ParseHash parses 64 hex digits, as Entry.Prev carries a hash.
func ParseHash(s string) ([32]byte, error) {
	var h [32]byte
	if len(s) != 64 {
		return h, fmt.Errorf("must be 64 hex digits, got %d characters", len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("must be 64 hex digits: %v", err)
	}
	for i := range len(s) { // hex.Decode took upper case too
		if 'A' <= s[i] && s[i] <= 'F' {
			return h, fmt.Errorf("must be lowercase hex")
		}
	}
	return h, nil
}

// PrevHash returns e.Prev parsed, and false when e carries none (an entry
// from a kiosk that predates the chain).
func PrevHash(e Entry) ([32]byte, bool, error) {
	if e.Prev == "" {
		return [32]byte{}, false, nil
	}
	h, err := ParseHash(e.Prev)
	return h, err == nil, err
}
