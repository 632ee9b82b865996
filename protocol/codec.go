package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Version is the message version this package writes and reads.
const Version = 1

// MaxMessageBytes bounds a message a decoder will look at: a full batch of
// entries with long scans fits well inside.
const MaxMessageBytes = 8 << 20

// Batch carries a kiosk's entries to the hub, in sequence order.
type Batch struct {
	Kiosk string `json:"kiosk"`
	Site  string `json:"site"`
	// Journal names the kiosk's journal the entries come from (a UUID, or
	// any name ValidName allows); "" from kiosks that predate it. A hub
	// holding this kiosk's entries from another journal stores none of
	// these (the kiosk's journal was replaced) and says so in its ack.
	Journal string    `json:"journal,omitempty"`
	Sent    time.Time `json:"sent"` // kiosk clock when sent, for skew
	Entries []Entry   `json:"entries"`
	// Sig is the kiosk's Ed25519 signature over Kiosk, Site, Journal and
	// each entry's place in the chain (SignBatch, base64url). The hub
	// stores nothing of a batch whose Sig does not verify against the
	// kiosk's enrolled key (VerifyBatch); "" only from kiosks that
	// predate it.
	Sig string `json:"sig,omitempty"`
	// Links are the entries' chain links as the receiver computed them
	// while it checked Sig (VerifyBatchLinks), so that its store need not
	// hash every entry again. Never on the wire: nothing decoded sets
	// them, and a store uses them only when they match the entries one
	// for one.
	Links []ChainLink `json:"-"`
}

// Ack is the hub's acknowledgement: it holds every entry of Kiosk with
// sequence 1..Contiguous. Only an Ack lets a kiosk mark entries synced.
type Ack struct {
	Kiosk      string `json:"kiosk"`
	Contiguous uint64 `json:"contiguous"`
	// Journal is the journal whose entries the hub holds for Kiosk ("" from
	// hubs that predate it, or before any kiosk named one). A kiosk never
	// takes an ack of another journal as an ack of its own entries.
	Journal string `json:"journal,omitempty"`
	// Highest is the highest sequence the hub holds (gaps below it are
	// possible); 0 from hubs that predate it.
	Highest uint64 `json:"highest,omitempty"`
	// Head is the chain hash (HashText) of the entry at Contiguous, when
	// the hub holds one with a hash: a kiosk whose journal was replaced
	// starts its new chain from it (the old chain's end). "" from hubs
	// that predate the chain.
	Head string    `json:"head,omitempty"`
	Time time.Time `json:"time"` // hub clock
}

// Validate checks b and every entry in it: the same kiosk throughout and
// strictly increasing sequence numbers.
func (b *Batch) Validate() error {
	switch {
	case b.Kiosk == "":
		return missing("kiosk")
	case !ValidName(b.Kiosk):
		return bad("kiosk", "must be 1-64 letters, digits, '-' or '_', got %q", b.Kiosk)
	case b.Site == "":
		return missing("site")
	case !ValidName(b.Site):
		return bad("site", "must be 1-64 letters, digits, '-' or '_', got %q", b.Site)
	case b.Journal != "" && !ValidName(b.Journal):
		return bad("journal", "must be 1-64 letters, digits, '-' or '_', got %q", b.Journal)
	case b.Sent.IsZero():
		return missing("sent")
	case len(b.Entries) == 0:
		return bad("entries", "must hold at least one entry")
	case len(b.Entries) > MaxBatchEntries:
		return bad("entries", "must hold at most %d entries, got %d", MaxBatchEntries, len(b.Entries))
	}
	if err := checkSigShape(b.Sig); err != nil {
		return err
	}
	for i := range b.Entries {
		e := &b.Entries[i]
		field := fmt.Sprintf("entries[%d]", i)
		if err := e.Validate(); err != nil {
			return prefixed(field, err)
		}
		if e.Kiosk != b.Kiosk {
			return bad(field+".kiosk", "is %q but the batch is from %q", e.Kiosk, b.Kiosk)
		}
		if i > 0 && e.Seq <= b.Entries[i-1].Seq {
			return bad(field+".seq", "must be greater than %d, got %d", b.Entries[i-1].Seq, e.Seq)
		}
	}
	return nil
}

// Validate checks a.
func (a *Ack) Validate() error {
	switch {
	case a.Kiosk == "":
		return missing("kiosk")
	case !ValidName(a.Kiosk):
		return bad("kiosk", "must be 1-64 letters, digits, '-' or '_', got %q", a.Kiosk)
	case a.Journal != "" && !ValidName(a.Journal):
		return bad("journal", "must be 1-64 letters, digits, '-' or '_', got %q", a.Journal)
	case a.Highest != 0 && a.Highest < a.Contiguous:
		return bad("highest", "must be at least contiguous (%d), got %d", a.Contiguous, a.Highest)
	case a.Time.IsZero():
		return missing("time")
	}
	if a.Head != "" {
		if _, err := ParseHash(a.Head); err != nil {
			return bad("head", "%v", err)
		}
	}
	return nil
}

// EncodeBatch validates b and returns its wire form.
func EncodeBatch(b Batch) ([]byte, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	b.Entries = slices.Clone(b.Entries)
	for i := range b.Entries {
		b.Entries[i] = wireReady(b.Entries[i])
	}
	return json.Marshal(struct {
		V int `json:"v"`
		Batch
	}{Version, b})
}

// EncodeAck validates a and returns its wire form.
func EncodeAck(a Ack) ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		V int `json:"v"`
		Ack
	}{Version, a})
}

// EncodeEntry validates e and returns its JSON form (no version: an entry
// travels inside a batch, and is stored as this).
func EncodeEntry(e Entry) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return EncodeValidEntry(e)
}

// EncodeValidEntry is EncodeEntry for an entry already validated, as
// every entry of a batch is by Batch.Validate: the hub's ingest encodes
// each stored entry in its canonical form without checking it twice.
func EncodeValidEntry(e Entry) ([]byte, error) {
	return encodeEntry(e, false)
}

// wireReady returns e as the decoders want it: a nil Reasons would encode
// as null, which DecodeEntry refuses ("reasons: missing"), and an entry a
// kiosk could journal but the hub could never take would stall its sync
// for good.
func wireReady(e Entry) Entry {
	if e.Reasons == nil {
		e.Reasons = []string{}
	}
	return e
}

// DecodeBatch parses and validates a batch.
func DecodeBatch(data []byte) (Batch, error) {
	var w wireBatch
	// One pass; the version is still judged before any other problem.
	if err := decodeJSON(data, &w); err != nil {
		return Batch{}, versionFirst(data, err)
	}
	if err := checkVersion(w.V); err != nil {
		return Batch{}, err
	}
	return w2batch(&w)
}

// wireBatch is a batch as decoded, with pointers so that a missing field
// can be told from a zero one. DecodeBatchPayload reads the same fields.
type wireBatch struct {
	V       *int        `json:"v"`
	Kiosk   *string     `json:"kiosk"`
	Site    *string     `json:"site"`
	Journal *string     `json:"journal"`
	Sent    *string     `json:"sent"`
	Entries []wireEntry `json:"entries"`
	Sig     *string     `json:"sig"`
}

func w2batch(w *wireBatch) (Batch, error) {
	kiosk, site, journal, sent, entries := w.Kiosk, w.Site, w.Journal, w.Sent, w.Entries
	var b Batch
	switch {
	case kiosk == nil:
		return Batch{}, missing("kiosk")
	case site == nil:
		return Batch{}, missing("site")
	case entries == nil:
		return Batch{}, missing("entries")
	}
	b.Kiosk, b.Site = *kiosk, *site
	if journal != nil {
		if *journal == "" {
			return Batch{}, bad("journal", "must be 1-64 letters, digits, '-' or '_', got \"\" (leave it out if there is none)")
		}
		b.Journal = *journal
	}
	if w.Sig != nil {
		if *w.Sig == "" {
			return Batch{}, bad("sig", "must be a base64url Ed25519 signature, got \"\" (leave it out if there is none)")
		}
		b.Sig = *w.Sig
	}
	t, err := parseTime("sent", sent)
	if err != nil {
		return Batch{}, err
	}
	b.Sent = t
	b.Entries = make([]Entry, len(entries))
	for i := range entries {
		if err := entries[i].into(&b.Entries[i]); err != nil {
			return Batch{}, prefixed(fmt.Sprintf("entries[%d]", i), err)
		}
	}
	return b, b.Validate()
}

// DecodeAck parses and validates an ack.
func DecodeAck(data []byte) (Ack, error) {
	var w struct {
		Kiosk      *string `json:"kiosk"`
		Contiguous *uint64 `json:"contiguous"`
		Journal    *string `json:"journal"`
		Highest    uint64  `json:"highest"`
		Head       string  `json:"head"`
		Time       *string `json:"time"`
	}
	if err := decodeVersioned(data, &w); err != nil {
		return Ack{}, err
	}
	switch {
	case w.Kiosk == nil:
		return Ack{}, missing("kiosk")
	case w.Contiguous == nil:
		return Ack{}, missing("contiguous")
	}
	t, err := parseTime("time", w.Time)
	if err != nil {
		return Ack{}, err
	}
	a := Ack{Kiosk: *w.Kiosk, Contiguous: *w.Contiguous, Highest: w.Highest, Head: w.Head, Time: t}
	if w.Journal != nil {
		if *w.Journal == "" {
			return Ack{}, bad("journal", "must be 1-64 letters, digits, '-' or '_', got \"\" (leave it out if there is none)")
		}
		a.Journal = *w.Journal
	}
	return a, a.Validate()
}

// DecodeEntry parses and validates one entry in the form EncodeEntry writes.
func DecodeEntry(data []byte) (Entry, error) {
	var w wireEntry
	if err := decodeJSON(data, &w); err != nil {
		return Entry{}, err
	}
	var e Entry
	if err := w.into(&e); err != nil {
		return Entry{}, err
	}
	return e, e.Validate()
}

// wireEntry is an Entry as decoded, with pointers so that a missing field
// can be told from a zero one.
type wireEntry struct {
	Kiosk       *string      `json:"kiosk"`
	Seq         *uint64      `json:"seq"`
	ID          *string      `json:"id"`
	Time        *string      `json:"time"`
	Kind        *Kind        `json:"kind"`
	Scan        string       `json:"scan"`
	Temperature *wireReading `json:"temperature"`
	Decision    *Decision    `json:"decision"`
	Reasons     []string     `json:"reasons"`
	Alert       bool         `json:"alert"`
	Pass        string       `json:"pass"`
	Unit        string       `json:"unit"`
	OnPost      []string     `json:"on_post"`
	Area        string       `json:"area"`
	Count       int          `json:"count"`
	Visitor     *Visitor     `json:"visitor"`
	Prev        string       `json:"prev"`
	Simulated   bool         `json:"simulated"`
}

type wireReading struct {
	ObjectC   *float64 `json:"object_c"`
	AmbientC  *float64 `json:"ambient_c"`
	BodyC     *float64 `json:"body_c"`
	DistCM    *float64 `json:"distance_cm"`
	OffsetC   float64  `json:"offset_c"`
	ScreenedC *float64 `json:"screened_c"`
}

func (w *wireEntry) into(e *Entry) error {
	switch {
	case w.Kiosk == nil:
		return missing("kiosk")
	case w.Seq == nil:
		return missing("seq")
	case w.ID == nil:
		return missing("id")
	case w.Kind == nil:
		return missing("kind")
	case w.Decision == nil:
		return missing("decision")
	case w.Reasons == nil:
		return missing("reasons")
	}
	t, err := parseTime("time", w.Time)
	if err != nil {
		return err
	}
	*e = Entry{
		Kiosk: *w.Kiosk, Seq: *w.Seq, ID: *w.ID, Time: t, Kind: *w.Kind,
		Scan: w.Scan, Decision: *w.Decision, Reasons: w.Reasons,
		Alert: w.Alert, Pass: w.Pass, Unit: w.Unit, OnPost: w.OnPost, Area: w.Area, Count: w.Count, Visitor: w.Visitor,
		Simulated: w.Simulated,
		Prev:      w.Prev,
	}
	if r := w.Temperature; r != nil {
		switch {
		case r.ObjectC == nil:
			return missing("temperature.object_c")
		case r.ScreenedC == nil:
			return missing("temperature.screened_c")
		}
		e.Temperature = &Reading{
			ObjectC: *r.ObjectC, AmbientC: r.AmbientC, BodyC: r.BodyC,
			DistCM: r.DistCM, OffsetC: r.OffsetC, ScreenedC: *r.ScreenedC,
		}
	}
	return nil
}

func parseTime(field string, s *string) (time.Time, error) {
	if s == nil || *s == "" {
		return time.Time{}, missing(field)
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return time.Time{}, bad(field, "must be an RFC 3339 time like 2026-02-01T08:30:00Z, got %q", *s)
	}
	return t, nil
}

// decodeVersioned checks the version before anything else, so that a
// message from a newer kiosk is refused as such and not as garbage.
func decodeVersioned(data []byte, v any) error {
	var h struct {
		V *int `json:"v"`
	}
	if err := decodeJSON(data, &h); err != nil {
		return err
	}
	if err := checkVersion(h.V); err != nil {
		return err
	}
	return decodeJSON(data, v)
}

func checkVersion(v *int) error {
	switch {
	case v == nil:
		return missing("v")
	case *v != Version:
		return bad("v", "unsupported version %d (this build reads version %d)", *v, Version)
	}
	return nil
}

// versionFirst turns a failed one-pass decode into the error a two-pass
// decode would give: a bad or missing version wins over the rest.
func versionFirst(data []byte, err error) error {
	var h struct {
		V *int `json:"v"`
	}
	if herr := decodeJSON(data, &h); herr != nil {
		return herr
	}
	if verr := checkVersion(h.V); verr != nil {
		return verr
	}
	return err
}

func decodeJSON(data []byte, v any) error {
	if len(data) > MaxMessageBytes {
		return fmt.Errorf("%w: message of %d bytes is over the %d byte limit", ErrInvalid, len(data), MaxMessageBytes)
	}
	// json.Unmarshal decides, reading data in place. A message it refuses
	// is read again by a Decoder only to say why, in the words below.
	if json.Unmarshal(data, v) == nil {
		return nil
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return bad(te.Field, "must be a JSON %s, got %s", jsonType(te.Type.Kind().String()), te.Value)
		}
		return fmt.Errorf("%w: not a JSON object: %v", ErrInvalid, err)
	}
	// The Decoder read one whole value where Unmarshal refused the
	// message: something follows it (another object, a stray "]").
	return fmt.Errorf("%w: trailing data after the JSON object", ErrInvalid)
}

func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	case "bool":
		return "boolean"
	}
	return "number"
}
