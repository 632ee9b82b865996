package protocol

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// BundleType marks an export bundle, so `hub import` can refuse any other
// gzipped JSON with a plain message.
const BundleType = "gatepost-export"

// MaxBundleBytes bounds an un-gzipped bundle: about a million entries.
const MaxBundleBytes = 1 << 30

// Bundle is what `kiosk export` writes when the link has been dead too
// long: every unacknowledged entry of one kiosk, From..To with no gaps, and
// a SHA-256 over them. On disk it is gzipped JSON.
type Bundle struct {
	Kiosk string `json:"kiosk"`
	Site  string `json:"site"`
	// Journal names the kiosk's journal the entries come from ("" from
	// kiosks that predate it): the hub refuses a bundle from another
	// journal than the one it holds the kiosk's entries of.
	Journal  string    `json:"journal,omitempty"`
	From     uint64    `json:"from"` // first sequence held
	To       uint64    `json:"to"`   // last sequence held
	Exported time.Time `json:"exported"`
	SHA256   string    `json:"sha256"` // of the entries, see BundleChecksum
	Entries  []Entry   `json:"entries"`
	// Sig is the kiosk's Ed25519 signature over Kiosk, Site, Journal and
	// each entry's place in the chain (SignBundle, base64url): the
	// checksum shows damage, the signature shows an edit, since whoever
	// edits the file can recompute a checksum but not sign. `hub import`
	// refuses a bundle whose Sig does not verify against the kiosk's
	// enrolled key (VerifyBundle).
	Sig string `json:"sig,omitempty"`
}

// BundleChecksum is the hex SHA-256 of each entry's EncodeEntry form
// followed by a newline, in order.
func BundleChecksum(entries []Entry) (string, error) {
	h := sha256.New()
	for i, e := range entries {
		body, err := EncodeEntry(e)
		if err != nil {
			return "", prefixed(fmt.Sprintf("entries[%d]", i), err)
		}
		h.Write(body)
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Validate checks b: one kiosk, sequences From..To without gaps, and the
// checksum.
func (b *Bundle) Validate() error {
	switch {
	case !ValidName(b.Kiosk):
		return bad("kiosk", "must be 1-64 letters, digits, '-' or '_', got %q", b.Kiosk)
	case !ValidName(b.Site):
		return bad("site", "must be 1-64 letters, digits, '-' or '_', got %q", b.Site)
	case b.Journal != "" && !ValidName(b.Journal):
		return bad("journal", "must be 1-64 letters, digits, '-' or '_', got %q", b.Journal)
	case len(b.Entries) == 0:
		return bad("entries", "must hold at least one entry")
	case b.From != b.Entries[0].Seq:
		return bad("from", "is %d but the first entry is %d", b.From, b.Entries[0].Seq)
	case b.To != b.Entries[len(b.Entries)-1].Seq || b.To-b.From+1 != uint64(len(b.Entries)):
		return bad("to", "is %d but the entries run %d..%d (%d of them)", b.To, b.From,
			b.Entries[len(b.Entries)-1].Seq, len(b.Entries))
	}
	if err := checkSigShape(b.Sig); err != nil {
		return err
	}
	for i := range b.Entries {
		e := &b.Entries[i]
		if e.Kiosk != b.Kiosk {
			return bad(fmt.Sprintf("entries[%d].kiosk", i), "is %q but the bundle is from %q", e.Kiosk, b.Kiosk)
		}
		if e.Seq != b.From+uint64(i) {
			return bad(fmt.Sprintf("entries[%d].seq", i), "must be %d, got %d", b.From+uint64(i), e.Seq)
		}
	}
	sum, err := BundleChecksum(b.Entries)
	if err != nil {
		return err
	}
	if sum != b.SHA256 {
		return bad("sha256", "does not match the entries (file damaged?): have %s, entries give %s", b.SHA256, sum)
	}
	return nil
}

// EncodeBundle fills in From, To and SHA256 from b.Entries, validates, and
// returns the gzipped file contents.
func EncodeBundle(b Bundle) ([]byte, error) {
	if len(b.Entries) > 0 {
		b.From, b.To = b.Entries[0].Seq, b.Entries[len(b.Entries)-1].Seq
	}
	sum, err := BundleChecksum(b.Entries)
	if err != nil {
		return nil, err
	}
	b.SHA256 = sum
	if err := b.Validate(); err != nil {
		return nil, err
	}
	plain, err := json.Marshal(struct {
		V    int    `json:"v"`
		Type string `json:"type"`
		Bundle
	}{Version, BundleType, b})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(plain) // a bytes.Buffer does not fail
	zw.Close()
	return buf.Bytes(), nil
}

// DecodeBundle un-gzips, parses and validates a bundle file.
func DecodeBundle(data []byte) (Bundle, error) {
	plain, err := gunzip(data, MaxBundleBytes)
	if err != nil {
		return Bundle{}, fmt.Errorf("%w: bundle: %v", ErrInvalid, err)
	}
	var h struct {
		V    *int    `json:"v"`
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(plain, &h); err != nil {
		return Bundle{}, fmt.Errorf("%w: bundle is not JSON: %v", ErrInvalid, err)
	}
	switch {
	case h.Type == nil || *h.Type != BundleType:
		return Bundle{}, bad("type", "must be %q: this is not a gatepost export", BundleType)
	case h.V == nil:
		return Bundle{}, missing("v")
	case *h.V != Version:
		return Bundle{}, bad("v", "unsupported version %d (this build reads version %d)", *h.V, Version)
	}
	var w struct {
		Kiosk    string      `json:"kiosk"`
		Site     string      `json:"site"`
		Journal  *string     `json:"journal"`
		From     uint64      `json:"from"`
		To       uint64      `json:"to"`
		Exported *string     `json:"exported"`
		SHA256   string      `json:"sha256"`
		Entries  []wireEntry `json:"entries"`
		Sig      *string     `json:"sig"`
	}
	dec := json.NewDecoder(bytes.NewReader(plain))
	if err := dec.Decode(&w); err != nil {
		return Bundle{}, fmt.Errorf("%w: bundle: %v", ErrInvalid, err)
	}
	t, err := parseTime("exported", w.Exported)
	if err != nil {
		return Bundle{}, err
	}
	b := Bundle{Kiosk: w.Kiosk, Site: w.Site, From: w.From, To: w.To, Exported: t, SHA256: w.SHA256,
		Entries: make([]Entry, len(w.Entries))}
	if w.Journal != nil {
		if *w.Journal == "" {
			return Bundle{}, bad("journal", "must be 1-64 letters, digits, '-' or '_', got \"\" (leave it out if there is none)")
		}
		b.Journal = *w.Journal
	}
	if w.Sig != nil {
		if *w.Sig == "" {
			return Bundle{}, bad("sig", "must be a base64url Ed25519 signature, got \"\" (leave it out if there is none)")
		}
		b.Sig = *w.Sig
	}
	for i := range w.Entries {
		if err := w.Entries[i].into(&b.Entries[i]); err != nil {
			return Bundle{}, prefixed(fmt.Sprintf("entries[%d]", i), err)
		}
		if err := b.Entries[i].Validate(); err != nil {
			return Bundle{}, prefixed(fmt.Sprintf("entries[%d]", i), err)
		}
	}
	return b, b.Validate()
}
