package protocol

import (
	"encoding/json"
	"flag"
	"os"
	"testing"
	"time"
)

var updateChain = flag.Bool("update-chain", false, "rewrite testdata/chain.json from the entries in it")

// chainVector is one shared chain case: entries in order, each with the
// prev it carries and the hash it must get. The kiosk's journal and the
// hub's records test against the same file.
type chainVector struct {
	Name    string             `json:"name"`
	Entries []chainVectorEntry `json:"entries"`
}

type chainVectorEntry struct {
	Entry    json.RawMessage `json:"entry"` // EncodeEntry form, prev included
	Personal string          `json:"personal"`
	Hash     string          `json:"hash"`
}

// loadChainVectors reads testdata/chain.json.
func loadChainVectors(tb testing.TB) []chainVector {
	tb.Helper()
	data, err := os.ReadFile("testdata/chain.json")
	if err != nil {
		tb.Fatal(err)
	}
	var vs []chainVector
	if err := json.Unmarshal(data, &vs); err != nil {
		tb.Fatalf("testdata/chain.json: %v", err)
	}
	return vs
}

func TestChainVectors(t *testing.T) {
	vs := loadChainVectors(t)
	if len(vs) == 0 {
		t.Fatal("no chain vectors")
	}
	for vi, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			prev := Genesis
			for i, ve := range v.Entries {
				e, err := DecodeEntry(ve.Entry)
				if err != nil {
					t.Fatalf("entry %d: DecodeEntry: %v", i, err)
				}
				if e.Prev != HashText(prev) {
					if *updateChain {
						e.Prev = HashText(prev)
						ve.Entry, _ = EncodeEntry(e)
					} else {
						t.Fatalf("entry %d: prev = %s, want the hash before it, %s", i, e.Prev, HashText(prev))
					}
				}
				h := EntryHash(prev, e)
				p := PersonalDigest(e)
				if *updateChain {
					ve.Hash, ve.Personal = HashText(h), HashText(p)
					vs[vi].Entries[i] = ve
				}
				if got := HashText(h); got != ve.Hash {
					t.Errorf("entry %d: EntryHash = %s, want %s", i, got, ve.Hash)
				}
				if got := HashText(p); got != ve.Personal {
					t.Errorf("entry %d: PersonalDigest = %s, want %s", i, got, ve.Personal)
				}
				// A purge keeps the hash checkable with the kept digest.
				purged := e
				purged.Scan = ""
				if purged.Visitor != nil {
					v := *purged.Visitor
					v.Name, v.Contact, v.From, v.Purpose = "—", "", "", ""
					purged.Visitor = &v
				}
				if got := EntryHashWith(prev, p, purged); got != h {
					t.Errorf("entry %d: hash of the purged entry with the kept digest = %x, want %x", i, got, h)
				}
				prev = h
			}
		})
	}
	if *updateChain {
		data, err := json.MarshalIndent(vs, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("testdata/chain.json", append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEntryHashCoversEveryField: changing any field, or the prev, changes
// the hash; the wire form of the time (offset) does not.
func TestEntryHashCoversEveryField(t *testing.T) {
	body := 36.6
	base := Entry{Kiosk: "gate-1", Seq: 7, ID: "0190d6e4-7a4b-7cc0-8b8e-2f5c1f3e9a10",
		Time: time.Date(2026, 2, 1, 8, 30, 0, 0, time.UTC), Kind: KindVisitor, Scan: "x",
		Temperature: &Reading{ObjectC: 34.1, BodyC: &body, ScreenedC: 36.6}, Decision: DecisionAllow,
		Reasons: []string{"temperature_normal"}, Unit: "3-201", OnPost: []string{"g1"}, Area: "a", Count: 2,
		Visitor: &Visitor{Name: "Li", Contact: "138", From: "Pudong", Visiting: "3-201", Purpose: "visit", Origin: "Hubei"}}
	h := EntryHash(Genesis, base)
	edits := map[string]func(e *Entry){
		"kiosk":     func(e *Entry) { e.Kiosk = "gate-2" },
		"seq":       func(e *Entry) { e.Seq = 8 },
		"id":        func(e *Entry) { e.ID = "0190d6e4-7a4b-7cc0-8b8e-2f5c1f3e9a11" },
		"time":      func(e *Entry) { e.Time = e.Time.Add(time.Nanosecond) },
		"kind":      func(e *Entry) { e.Kind = KindCheck },
		"scan":      func(e *Entry) { e.Scan = "y" },
		"reading":   func(e *Entry) { r := *e.Temperature; r.ScreenedC = 38; e.Temperature = &r },
		"decision":  func(e *Entry) { e.Decision = DecisionDeny },
		"reasons":   func(e *Entry) { e.Reasons = nil },
		"alert":     func(e *Entry) { e.Alert = true },
		"pass":      func(e *Entry) { e.Pass = "p1" },
		"unit":      func(e *Entry) { e.Unit = "3-202" },
		"on_post":   func(e *Entry) { e.OnPost = nil },
		"area":      func(e *Entry) { e.Area = "b" },
		"count":     func(e *Entry) { e.Count = 3 },
		"name":      func(e *Entry) { v := *e.Visitor; v.Name = "Wang"; e.Visitor = &v },
		"contact":   func(e *Entry) { v := *e.Visitor; v.Contact = ""; e.Visitor = &v },
		"from":      func(e *Entry) { v := *e.Visitor; v.From = ""; e.Visitor = &v },
		"purpose":   func(e *Entry) { v := *e.Visitor; v.Purpose = ""; e.Visitor = &v },
		"visiting":  func(e *Entry) { v := *e.Visitor; v.Visiting = ""; e.Visitor = &v },
		"origin":    func(e *Entry) { v := *e.Visitor; v.Origin = ""; e.Visitor = &v },
		"returnee":  func(e *Entry) { v := *e.Visitor; v.Returnee = true; e.Visitor = &v },
		"no_reason": func(e *Entry) { e.Reasons = []string{"fever_hold"} },
	}
	for name, edit := range edits {
		e := base
		edit(&e)
		if EntryHash(Genesis, e) == h {
			t.Errorf("editing %s left the hash unchanged", name)
		}
	}
	if EntryHash([32]byte{1}, base) == h {
		t.Error("another prev left the hash unchanged")
	}
	shifted := base
	shifted.Time = base.Time.In(time.FixedZone("CST", 8*3600))
	if EntryHash(Genesis, shifted) != h {
		t.Error("the same instant in another zone changed the hash")
	}
	withPrev := base
	withPrev.Prev = HashText([32]byte{9})
	if EntryHash(Genesis, withPrev) != h {
		t.Error("Entry.Prev entered the hash; only the prev argument may")
	}
}

// FuzzEntryHash: any entry that decodes hashes the same after a round trip
// through its wire form, as the hub recomputes it; ParseHash never panics
// and round-trips.
func FuzzEntryHash(f *testing.F) {
	for _, v := range loadChainVectors(f) {
		for _, ve := range v.Entries {
			f.Add([]byte(ve.Entry), ve.Hash)
		}
	}
	f.Add([]byte(`{}`), "zz")
	f.Fuzz(func(t *testing.T, data []byte, prevText string) {
		if h, err := ParseHash(prevText); err == nil && HashText(h) != prevText {
			t.Fatalf("ParseHash(%q) round trip = %s", prevText, HashText(h))
		}
		e, err := DecodeEntry(data)
		if err != nil {
			return
		}
		prev, _, err := PrevHash(e)
		if err != nil {
			t.Fatalf("DecodeEntry accepted prev %q that PrevHash refuses: %v", e.Prev, err)
		}
		h := EntryHash(prev, e)
		wire, err := EncodeEntry(e)
		if err != nil {
			t.Fatalf("EncodeEntry of a decoded entry: %v", err)
		}
		again, err := DecodeEntry(wire)
		if err != nil {
			t.Fatalf("DecodeEntry(EncodeEntry(e)): %v", err)
		}
		if EntryHash(prev, again) != h {
			t.Fatalf("hash changed over a round trip of %s", wire)
		}
	})
}
