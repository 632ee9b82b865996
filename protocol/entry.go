package protocol

import (
	"math"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Kind says what happened at the gate.
type Kind string

// The kinds of entry a kiosk logs.
const (
	KindCheck        Kind = "check"        // a person checked at the gate: scan and/or temperature
	KindVisitor      Kind = "visitor"      // a visitor registered ("three questions")
	KindDelivery     Kind = "delivery"     // a parcel left at the drop point
	KindShiftIn      Kind = "shift_in"     // a guard signed in
	KindShiftOut     Kind = "shift_out"    // a guard signed out
	KindDisinfection Kind = "disinfection" // an area disinfected
)

func (k Kind) valid() bool {
	switch k {
	case KindCheck, KindVisitor, KindDelivery, KindShiftIn, KindShiftOut, KindDisinfection:
		return true
	}
	return false
}

// Decision is what the gate decided.
type Decision string

// The decisions a kiosk can log.
const (
	DecisionAllow     Decision = "allow"     // let in
	DecisionDeny      Decision = "deny"      // turned back
	DecisionAlert     Decision = "alert"     // turned back and reported to the hub at once
	DecisionRemeasure Decision = "remeasure" // no usable reading yet: measure again
	DecisionRecord    Decision = "record"    // nothing to decide: a record (delivery, shift, disinfection)
)

func (d Decision) valid() bool {
	switch d {
	case DecisionAllow, DecisionDeny, DecisionAlert, DecisionRemeasure, DecisionRecord:
		return true
	}
	return false
}

// Limits on what a message may carry. They bound memory on both sides and
// name what "out of range" means.
const (
	MaxScanBytes    = 4096 // longest scanned text an entry may carry
	MaxReasons      = 16
	MaxBatchEntries = 1000
	MinCelsius      = -70.0 // the range of common IR thermopiles (MLX90614)
	MaxCelsius      = 380.0
	MaxDistanceCM   = 1000.0
)

// ValidName reports whether s may be used as a kiosk or site id: 1 to 64
// letters, digits, '-' or '_'. Ids appear in MQTT topics, so no '/', '+'
// or '#'.
func ValidName(s string) bool { return idChars(s, 64, false) }

// idChars reports whether s is 1 to most of [A-Za-z0-9_-], or with
// reason of [a-z0-9_]: the regular expressions ^[A-Za-z0-9_-]{1,n}$ and
// ^[a-z0-9_]{1,n}$ (FuzzIDChars holds them equal), as a loop, since the
// hub checks every entry's kiosk, reasons and pass on every batch and
// the regular expressions were a tenth of storing one.
func idChars(s string, most int, reason bool) bool {
	if len(s) == 0 || len(s) > most {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '_':
		case !reason && ('A' <= c && c <= 'Z' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// Reading is a temperature reading as the kiosk logged it: the raw object
// temperature always, and what else the module reported.
type Reading struct {
	ObjectC   float64  `json:"object_c"`              // raw object temperature, °C
	AmbientC  *float64 `json:"ambient_c,omitempty"`   // ambient temperature, °C
	BodyC     *float64 `json:"body_c,omitempty"`      // compensated body temperature, °C
	DistCM    *float64 `json:"distance_cm,omitempty"` // distance to the forehead, cm
	OffsetC   float64  `json:"offset_c,omitempty"`    // calibration offset the kiosk applied
	ScreenedC float64  `json:"screened_c"`            // the value the gate's rules judged, °C
}

// Entry is one thing that happened at a gate, as the kiosk journaled it.
// (Kiosk, Seq) identifies it; Seq counts from 1 without gaps per kiosk.
type Entry struct {
	Kiosk       string    `json:"kiosk"`
	Seq         uint64    `json:"seq"`
	ID          string    `json:"id"`   // UUIDv7, unique across kiosks
	Time        time.Time `json:"time"` // kiosk wall clock: informative, never used for order
	Kind        Kind      `json:"kind"`
	Scan        string    `json:"scan,omitempty"` // scanned text, if any
	Temperature *Reading  `json:"temperature,omitempty"`
	Decision    Decision  `json:"decision"`
	Reasons     []string  `json:"reasons"` // machine-readable reason codes, e.g. "fever"

	// Optional, added with passes and the gate's rules (issue 5).
	Alert   bool     `json:"alert,omitempty"`   // report to the hub at once, whatever the decision (soft fever mode)
	Pass    string   `json:"pass,omitempty"`    // id of the pass shown (the scan then holds no token)
	Unit    string   `json:"unit,omitempty"`    // building-room of the pass or the visited household
	OnPost  []string `json:"on_post,omitempty"` // pass ids of the guards signed in when this happened
	Area    string   `json:"area,omitempty"`    // disinfection: what was disinfected
	Count   int      `json:"count,omitempty"`   // delivery: parcels left at the drop point
	Visitor *Visitor `json:"visitor,omitempty"` // visitor: the three questions' answers
	// Simulated is true for an entry made while a device was a simulator
	// (a demo): its person and reading are invented. The hub takes such
	// entries only for a site marked as a test site.
	Simulated bool `json:"simulated,omitempty"`

	// Prev is the chain hash (EntryHash, HashText) of the entry before
	// this one in its journal, or of Genesis for a journal's first entry;
	// "" from kiosks that predate the chain.
	Prev string `json:"prev,omitempty"`
}

// Visitor is a visitor's "three questions, three registrations": who,
// from where, whom they visit; identity, contact and purpose; and the
// returnee registration.
type Visitor struct {
	Name     string `json:"name"`
	Contact  string `json:"contact,omitempty"`
	From     string `json:"from,omitempty"`     // where they come from today
	Visiting string `json:"visiting,omitempty"` // unit visited
	Purpose  string `json:"purpose,omitempty"`
	Returnee bool   `json:"returnee,omitempty"` // returning to the city: origin and date below
	Origin   string `json:"origin,omitempty"`   // region returned from
	Returned string `json:"returned,omitempty"` // date of return, 2006-01-02
}

// Urgent reports whether e must reach the hub ahead of any backlog.
func (e *Entry) Urgent() bool { return e.Alert || e.Decision == DecisionAlert }

// MaxOnPost bounds the guards an entry lists as on post.
const MaxOnPost = 8

// Validate checks every field of v.
func (v *Visitor) Validate() error {
	for _, f := range []struct{ name, v string }{
		{"name", v.Name}, {"contact", v.Contact}, {"from", v.From}, {"visiting", v.Visiting},
		{"purpose", v.Purpose}, {"origin", v.Origin},
	} {
		if err := checkLabel(f.name, f.v, 128); err != nil {
			return err
		}
	}
	if v.Name == "" {
		return missing("name")
	}
	if v.Returned != "" {
		if _, err := time.Parse(time.DateOnly, v.Returned); err != nil {
			return bad("returned", "must be a date like 2026-02-20, got %q", v.Returned)
		}
	}
	return nil
}

// Validate checks every field of e.
func (e *Entry) Validate() error {
	switch {
	case e.Kiosk == "":
		return missing("kiosk")
	case !ValidName(e.Kiosk):
		return bad("kiosk", "must be 1-64 letters, digits, '-' or '_', got %q", e.Kiosk)
	case e.Seq == 0:
		return bad("seq", "must be 1 or more")
	case e.ID == "":
		return missing("id")
	case e.Time.IsZero():
		return missing("time")
	case e.Kind == "":
		return missing("kind")
	case !e.Kind.valid():
		return bad("kind", "unknown kind %q", e.Kind)
	case e.Decision == "":
		return missing("decision")
	case !e.Decision.valid():
		return bad("decision", "unknown decision %q", e.Decision)
	case len(e.Scan) > MaxScanBytes:
		return bad("scan", "longer than %d bytes", MaxScanBytes)
	case !utf8.ValidString(e.Scan):
		return bad("scan", "not valid UTF-8")
	case len(e.Reasons) > MaxReasons:
		return bad("reasons", "more than %d reasons", MaxReasons)
	}
	if _, err := uuid.Parse(e.ID); err != nil || len(e.ID) != 36 {
		return bad("id", "must be a UUID like 0190d6e4-7a4b-7cc0-8b8e-2f5c1f3e9a10, got %q", e.ID)
	}
	for i, r := range e.Reasons {
		if !idChars(r, 64, true) {
			return bad("reasons", "reason %d must be 1-64 of a-z, 0-9, '_', got %q", i, r)
		}
	}
	if e.Temperature != nil {
		if err := e.Temperature.Validate(); err != nil {
			return prefixed("temperature", err)
		}
	}
	return e.validateOptional()
}

func (e *Entry) validateOptional() error {
	switch {
	case e.Pass != "" && !idChars(e.Pass, MaxPassID, false):
		return bad("pass", "must be 1-%d letters, digits, '-' or '_', got %q", MaxPassID, e.Pass)
	case len(e.OnPost) > MaxOnPost:
		return bad("on_post", "more than %d guards", MaxOnPost)
	case e.Count < 0 || e.Count > 1000:
		return bad("count", "must be 0 to 1000, got %d", e.Count)
	}
	for i, g := range e.OnPost {
		if !idChars(g, MaxPassID, false) {
			return bad("on_post", "guard %d must be a pass id, got %q", i, g)
		}
	}
	if e.Prev != "" {
		if _, err := ParseHash(e.Prev); err != nil {
			return bad("prev", "%v", err)
		}
	}
	if err := checkLabel("unit", e.Unit, MaxPassUnit); err != nil {
		return err
	}
	if err := checkLabel("area", e.Area, 64); err != nil {
		return err
	}
	if e.Visitor != nil {
		if err := e.Visitor.Validate(); err != nil {
			return prefixed("visitor", err)
		}
	}
	return nil
}

// Validate checks that every value of r is a number within range.
func (r *Reading) Validate() error {
	checks := []struct {
		field    string
		v        *float64
		min, max float64
	}{
		{"object_c", &r.ObjectC, MinCelsius, MaxCelsius},
		{"ambient_c", r.AmbientC, MinCelsius, MaxCelsius},
		{"body_c", r.BodyC, MinCelsius, MaxCelsius},
		{"distance_cm", r.DistCM, 0, MaxDistanceCM},
		{"offset_c", &r.OffsetC, -10, 10},
		{"screened_c", &r.ScreenedC, MinCelsius, MaxCelsius},
	}
	for _, c := range checks {
		if c.v == nil {
			continue
		}
		if v := *c.v; math.IsNaN(v) || v < c.min || v > c.max {
			return bad(c.field, "must be between %g and %g, got %g", c.min, c.max, v)
		}
	}
	return nil
}
