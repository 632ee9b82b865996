package protocol

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
)

// A kiosk's signature over a batch or an export bundle covers who sent
// it, from which journal, and each entry's place in the chain: its
// sequence, the hash it follows and its own hash. Since each hash covers
// the entry's content, the signature covers the entries too, and the
// signer never re-encodes them: the kiosk's journal stores each hash.
// The hub computes the links of what it received (ChainLinks) and checks
// the signature against the kiosk's enrolled key (VerifyChain).
//
// Batch.Sig and Bundle.Sig carry it (SignBatch, SignBundle; the kiosk's
// uplink signs from the journal's stored hashes with EncodedLink), and the
// hub checks them with VerifyBatch and VerifyBundle.

// ChainLink is one entry's place in its journal's chain.
type ChainLink struct {
	Seq  uint64
	Prev [32]byte // the hash the entry follows (Genesis for a first entry, or one without prev)
	Hash [32]byte // EntryHash(Prev, entry)
	// Personal is PersonalDigest(entry) where ChainLinks computed the
	// link (zero where it came from a journal's stored hash): the hub
	// keeps it beside the hash. Not part of what is signed.
	Personal [32]byte
}

// ChainLinks returns the links of entries as the hub computes them.
func ChainLinks(entries []Entry) ([]ChainLink, error) {
	links := make([]ChainLink, len(entries))
	for i, e := range entries {
		prev, _, err := PrevHash(e)
		if err != nil {
			return nil, bad(fmt.Sprintf("entries[%d].prev", i), "%v", err)
		}
		personal := PersonalDigest(e)
		links[i] = ChainLink{Seq: e.Seq, Prev: prev, Hash: EntryHashWith(prev, personal, e), Personal: personal}
	}
	return links, nil
}

// ChainStatement is the exact bytes a kiosk signs (with the domain and
// PurposeBatch in front, as Sign does): the JSON
// {"kiosk":K,"site":S,"journal":J,"links":[[seq,"prev hex","hash hex"],...]}
// with no spaces.
func ChainStatement(kiosk, site, journal string, links []ChainLink) []byte {
	// Written by hand, not by json.Marshal over [3]any rows: the hub
	// builds one for every batch it takes, and reflection over a
	// thousand rows was a twentieth of storing it. The bytes are
	// json.Marshal's (TestChainStatementMatchesMarshal, and the signed
	// vectors in testdata).
	b := make([]byte, 0, 64+len(kiosk)+len(site)+len(journal)+len(links)*(2*64+30))
	b = appendJSONString(append(b, `{"kiosk":`...), kiosk)
	b = appendJSONString(append(b, `,"site":`...), site)
	b = appendJSONString(append(b, `,"journal":`...), journal)
	b = append(b, `,"links":[`...)
	for i, l := range links {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(append(b, '['), l.Seq, 10)
		b = hex.AppendEncode(append(b, `,"`...), l.Prev[:])
		b = hex.AppendEncode(append(b, `","`...), l.Hash[:])
		b = append(b, `"]`...)
	}
	return append(b, "]}"...)
}

// SignChain signs the statement of kiosk, site, journal and links with
// the kiosk's key and returns the signature as base64url.
func SignChain(priv ed25519.PrivateKey, kiosk, site, journal string, links []ChainLink) string {
	msg := signedBytes(PurposeBatch, ChainStatement(kiosk, site, journal, links))
	return base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, msg))
}

// VerifyChain checks sig, as SignChain makes it, against pub. A missing
// or malformed signature wraps ErrInvalid and ErrSignature; one that does
// not verify wraps ErrSignature.
func VerifyChain(pub ed25519.PublicKey, sig, kiosk, site, journal string, links []ChainLink) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: the kiosk has no enrolled key", ErrSignature)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(sig) // one text per signature
	if err != nil || len(raw) != ed25519.SignatureSize {
		return fmt.Errorf("%w: %w", ErrSignature, bad("sig", "must be a base64url Ed25519 signature"))
	}
	if !ed25519.Verify(pub, signedBytes(PurposeBatch, ChainStatement(kiosk, site, journal, links)), raw) {
		return fmt.Errorf("%w: not signed by kiosk %s's enrolled key (%s), or the entries were changed after signing",
			ErrSignature, kiosk, Fingerprint(pub))
	}
	return nil
}

// checkSigShape checks a Batch.Sig or Bundle.Sig: "" (none) or the
// base64url text of an Ed25519 signature, as SignChain writes it.
func checkSigShape(sig string) error {
	if sig == "" {
		return nil
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(sig)
	if err != nil || len(raw) != ed25519.SignatureSize {
		return bad("sig", "must be a base64url Ed25519 signature (%d characters), got %d characters",
			base64.RawURLEncoding.EncodedLen(ed25519.SignatureSize), len(sig))
	}
	return nil
}

// SignBatch sets b.Sig to the kiosk's signature over b (SignChain over
// the links of its entries as the hub computes them). A kiosk sending
// what its journal stores signs with EncodedLink's links instead, which
// need no decoding.
func SignBatch(priv ed25519.PrivateKey, b *Batch) error {
	links, err := ChainLinks(b.Entries)
	if err != nil {
		return err
	}
	b.Sig = SignChain(priv, b.Kiosk, b.Site, b.Journal, links)
	return nil
}

// VerifyBatch checks b.Sig against pub, the enrolled key of b.Kiosk; the
// error wraps ErrSignature for a signature that is missing or does not
// verify.
func VerifyBatch(pub ed25519.PublicKey, b Batch) error {
	_, err := VerifyBatchLinks(pub, b)
	return err
}

// VerifyBatchLinks is VerifyBatch that also returns the links it computed
// (ChainLinks), so that the hub, having checked them, stores them without
// hashing every entry again; nil links with any error.
func VerifyBatchLinks(pub ed25519.PublicKey, b Batch) ([]ChainLink, error) {
	links, err := ChainLinks(b.Entries)
	if err != nil {
		return nil, err
	}
	if err := VerifyChain(pub, b.Sig, b.Kiosk, b.Site, b.Journal, links); err != nil {
		return nil, err
	}
	return links, nil
}

// SignBundle sets b.Sig to the kiosk's signature over b's entries, as
// SignBatch does for a batch.
func SignBundle(priv ed25519.PrivateKey, b *Bundle) error {
	links, err := ChainLinks(b.Entries)
	if err != nil {
		return err
	}
	b.Sig = SignChain(priv, b.Kiosk, b.Site, b.Journal, links)
	return nil
}

// VerifyBundle checks b.Sig against pub, as VerifyBatch does for a batch.
func VerifyBundle(pub ed25519.PublicKey, b Bundle) error {
	links, err := ChainLinks(b.Entries)
	if err != nil {
		return err
	}
	return VerifyChain(pub, b.Sig, b.Kiosk, b.Site, b.Journal, links)
}

// prevKey is how an entry's prev appears in its EncodeEntry form. It
// cannot appear inside a string value, where JSON escapes the quotes, and
// no object nested in an entry has a prev.
var prevKey = []byte(`"prev":"`)

// EncodedLink returns the link of an entry stored in its EncodeEntry form
// (body) at seq, whose chain hash the kiosk's journal stored (hash, 32
// bytes), without decoding it: the prev is read from the body. An entry
// stored before the chain (no hash) is decoded and hashed after Genesis,
// as the hub does with an entry without prev.
func EncodedLink(seq uint64, body, hash []byte) (ChainLink, error) {
	l := ChainLink{Seq: seq}
	if i := bytes.Index(body, prevKey); i >= 0 {
		start := i + len(prevKey)
		if len(body) < start+64 {
			return l, bad("prev", "entry %d: cut short", seq)
		}
		prev, err := ParseHash(string(body[start : start+64]))
		if err != nil {
			return l, bad("prev", "entry %d: %v", seq, err)
		}
		l.Prev = prev
	}
	if len(hash) == len(l.Hash) {
		l.Hash = [32]byte(hash)
		return l, nil
	}
	e, err := DecodeEntry(body)
	if err != nil {
		return l, prefixed(fmt.Sprintf("entry %d", seq), err)
	}
	l.Hash = EntryHash(l.Prev, e)
	return l, nil
}
