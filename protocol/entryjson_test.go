package protocol

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// marshalledEntry is the canonical form as json.Marshal writes it: what
// EncodeValidEntry wrote before appendEntry, and what it must still write.
func marshalledEntry(e Entry, public bool) ([]byte, error) {
	if public {
		e.Prev, e.Scan, e.Time = "", "", e.Time.UTC()
		if e.Visitor != nil {
			v := *e.Visitor
			v.Name, v.Contact, v.From, v.Purpose = "", "", "", ""
			e.Visitor = &v
		}
	}
	return json.Marshal(wireReady(e))
}

// checkSameJSON fails t unless encodeEntry and personalJSON write e
// exactly as json.Marshal does, in both forms.
func checkSameJSON(t *testing.T, e Entry) {
	t.Helper()
	for _, public := range []bool{false, true} {
		want, wantErr := marshalledEntry(e, public)
		got, err := encodeEntry(e, public)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("encodeEntry(public=%v) = %s, %v\nwant json.Marshal's %s, %v", public, got, err, want, wantErr)
		}
	}
	var v Visitor
	if e.Visitor != nil {
		v = *e.Visitor
	}
	want, _ := json.Marshal([5]string{e.Scan, v.Name, v.Contact, v.From, v.Purpose})
	if got := personalJSON(nil, &e); !bytes.Equal(got, want) {
		t.Fatalf("personalJSON = %s, want %s", got, want)
	}
}

func TestEntryJSONMatchesMarshal(t *testing.T) {
	amb, dist, tiny, huge := 22.5, 35.0, 1e-7, 1e21
	shanghai := time.FixedZone("CST", 8*3600)
	full := Entry{Kiosk: "gate-1", Seq: 42, ID: "0190d6e4-7a4b-7cc0-8b8e-2f5c1f3e9a10",
		Time: time.Date(2026, 2, 1, 8, 30, 0, 123456789, shanghai), Kind: KindVisitor, Scan: "GP1:resident:ZJ5",
		Temperature: &Reading{ObjectC: 36.4, AmbientC: &amb, BodyC: &tiny, DistCM: &dist, OffsetC: -0.3, ScreenedC: 36.7},
		Decision:    DecisionAllow, Reasons: []string{"visitor_registered"}, Alert: true, Pass: "R0000001", Unit: "3-201",
		OnPost: []string{"G1", "G2"}, Area: "lobby", Count: 3, Simulated: true, Prev: HashText(Genesis),
		Visitor: &Visitor{Name: "王小明", Contact: "13812345678", From: "徐汇区", Visiting: "3-201", Purpose: "探亲",
			Returnee: true, Origin: "湖北", Returned: "2026-01-30"}}
	cases := map[string]func(e *Entry){
		"full": func(e *Entry) {},
		"bare": func(e *Entry) {
			e.Temperature, e.Visitor, e.Scan, e.Prev, e.OnPost, e.Reasons = nil, nil, "", "", nil, nil
		},
		"empty on_post": func(e *Entry) { e.OnPost = []string{} },
		"html":          func(e *Entry) { e.Scan = `<a href="x">&</a>` },
		"controls":      func(e *Entry) { e.Scan = "a\b\f\n\r\t\x01\x7f\\z" },
		"separators":    func(e *Entry) { e.Visitor.Name = "a\u2028b\u2029c" },
		"bad utf-8":     func(e *Entry) { e.Area = "a\xffb\xc3" },
		"big float":     func(e *Entry) { e.Temperature.BodyC = &huge },
		"negative zero": func(e *Entry) { e.Temperature.OffsetC = math.Copysign(0, -1) },
		"nan":           func(e *Entry) { e.Temperature.ObjectC = math.NaN() },
		"infinite":      func(e *Entry) { inf := math.Inf(1); e.Temperature.DistCM = &inf },
		"year 10000":    func(e *Entry) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"odd offset":    func(e *Entry) { e.Time = time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 25*3600)) },
		"utc":           func(e *Entry) { e.Time = e.Time.UTC() },
		"zero time":     func(e *Entry) { e.Time = time.Time{} },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			e := full
			r, v := *full.Temperature, *full.Visitor
			e.Temperature, e.Visitor = &r, &v
			change(&e)
			checkSameJSON(t, e)
		})
	}
}

// TestEntryJSONKnowsEveryField fails when Entry, Reading or Visitor gains
// a field: appendEntry must then write it too (and FuzzEntryJSON cover it).
func TestEntryJSONKnowsEveryField(t *testing.T) {
	for _, c := range []struct {
		v    any
		want int
	}{{Entry{}, 18}, {Reading{}, 6}, {Visitor{}, 8}} {
		if n := reflect.TypeOf(c.v).NumField(); n != c.want {
			t.Errorf("%T has %d fields, appendEntry writes %d: teach it the new ones", c.v, n, c.want)
		}
	}
}

func FuzzEntryJSON(f *testing.F) {
	f.Add("gate-1", uint64(7), "GP1:resident:ZJ5", "王小明", "<&>", "3-201", "fever_confirmed", 36.4, 22.5, int64(1769905800), 8*3600, true)
	f.Add("a\u2028", uint64(0), "\xff", "", "\x00", "", "", 1e-9, -0.0, int64(-62135596800), -3600, false)
	f.Fuzz(func(t *testing.T, kiosk string, seq uint64, scan, name, area, unit, reason string, obj, amb float64,
		unix int64, offset int, visitor bool) {
		e := Entry{Kiosk: kiosk, Seq: seq, ID: kiosk + unit, Time: time.Unix(unix, int64(seq%1e9)).In(time.FixedZone("", offset%(30*3600))),
			Kind: Kind(reason), Scan: scan, Decision: Decision(area), Reasons: []string{reason, name}, Pass: unit, Unit: unit,
			Area: area, Count: int(seq % 1000), Prev: name, Alert: visitor, Simulated: !visitor,
			Temperature: &Reading{ObjectC: obj, AmbientC: &amb, OffsetC: amb - obj, ScreenedC: obj * 10}}
		if visitor {
			e.Visitor = &Visitor{Name: name, Contact: scan, From: area, Visiting: unit, Purpose: reason, Origin: kiosk, Returned: area}
			e.OnPost = []string{unit, scan}
		}
		checkSameJSON(t, e)
	})
}

func FuzzIDChars(f *testing.F) {
	name, reason, pass := regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`), regexp.MustCompile(`^[a-z0-9_]{1,64}$`), passIDPattern
	for _, s := range []string{"", "gate-1", "fever_confirmed", "Gate_1", "a/b", "ä", "x\n", strings.Repeat("a", 64), strings.Repeat("a", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []struct {
			re     *regexp.Regexp
			most   int
			reason bool
		}{{name, 64, false}, {reason, 64, true}, {pass, MaxPassID, false}} {
			if got, want := idChars(s, c.most, c.reason), c.re.MatchString(s); got != want {
				t.Fatalf("idChars(%q, %d, %v) = %v, but %s says %v", s, c.most, c.reason, got, c.re, want)
			}
		}
	})
}

// marshalledStatement is ChainStatement as json.Marshal wrote it before
// it was written by hand.
func marshalledStatement(kiosk, site, journal string, links []ChainLink) []byte {
	rows := make([][3]any, len(links))
	for i, l := range links {
		rows[i] = [3]any{l.Seq, HashText(l.Prev), HashText(l.Hash)}
	}
	data, _ := json.Marshal(struct {
		Kiosk   string   `json:"kiosk"`
		Site    string   `json:"site"`
		Journal string   `json:"journal"`
		Links   [][3]any `json:"links"`
	}{kiosk, site, journal, rows})
	return data
}

func TestChainStatementMatchesMarshal(t *testing.T) {
	links := []ChainLink{{Seq: 1, Prev: Genesis, Hash: [32]byte{1, 2, 0xff}}, {Seq: 1<<64 - 1, Prev: [32]byte{0xab}, Hash: [32]byte{31: 9}}}
	for _, c := range []struct {
		kiosk, site, journal string
		links                []ChainLink
	}{
		{"gate-1", "huamu-001", "0190d6e4-7a4b-7cc0-8b8e-00000000a001", links},
		{"gate-1", "huamu-001", "", links[:1]},
		{"", "", "", nil},
		{"<&>", "a\u2028", "\xff\"\\", []ChainLink{}},
	} {
		got, want := ChainStatement(c.kiosk, c.site, c.journal, c.links), marshalledStatement(c.kiosk, c.site, c.journal, c.links)
		if !bytes.Equal(got, want) {
			t.Errorf("ChainStatement(%q, %q, %q, %d links) = %s\nwant json.Marshal's %s", c.kiosk, c.site, c.journal, len(c.links), got, want)
		}
	}
}
