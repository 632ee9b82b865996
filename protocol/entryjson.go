package protocol

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// appendEntry appends e in its canonical form, the bytes json.Marshal
// writes for wireReady(e), without reflection: the hub encodes every
// entry it stores (the body) and hashes another encoding of it (the chain's
// public part), and encoding/json's reflection was a fifth of storing a
// batch. With public set it writes canonicalPublic's form instead: no prev,
// no scan, no personal visitor fields, the time in UTC. ok is false for
// what json.Marshal itself refuses or may write otherwise (a time outside
// RFC 3339, a NaN or infinite reading), which the caller then hands to
// json.Marshal. FuzzEntryJSON holds the two byte for byte.
func appendEntry(b []byte, e *Entry, public bool) ([]byte, bool) {
	t := e.Time
	if public {
		t = t.UTC()
	}
	b = append(b, `{"kiosk":`...)
	b = appendJSONString(b, e.Kiosk)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"time":"`...)
	n := len(b)
	b, err := t.AppendText(b) // what Time.MarshalJSON writes, unquoted
	if err != nil || !plainASCII(b[n:]) {
		return b, false
	}
	b = append(b, `","kind":`...)
	b = appendJSONString(b, string(e.Kind))
	if e.Scan != "" && !public {
		b = append(b, `,"scan":`...)
		b = appendJSONString(b, e.Scan)
	}
	if r := e.Temperature; r != nil {
		var ok bool
		if b, ok = appendReading(append(b, `,"temperature":`...), r); !ok {
			return b, false
		}
	}
	b = append(b, `,"decision":`...)
	b = appendJSONString(b, string(e.Decision))
	b = appendJSONStrings(append(b, `,"reasons":`...), e.Reasons) // wireReady: never null
	if e.Alert {
		b = append(b, `,"alert":true`...)
	}
	b = appendOmitEmpty(b, `,"pass":`, e.Pass)
	b = appendOmitEmpty(b, `,"unit":`, e.Unit)
	if len(e.OnPost) > 0 {
		b = appendJSONStrings(append(b, `,"on_post":`...), e.OnPost)
	}
	b = appendOmitEmpty(b, `,"area":`, e.Area)
	if e.Count != 0 {
		b = strconv.AppendInt(append(b, `,"count":`...), int64(e.Count), 10)
	}
	if e.Visitor != nil {
		b = appendVisitor(append(b, `,"visitor":`...), e.Visitor, public)
	}
	if e.Simulated {
		b = append(b, `,"simulated":true`...)
	}
	if !public {
		b = appendOmitEmpty(b, `,"prev":`, e.Prev)
	}
	return append(b, '}'), true
}

// appendReading appends r as json.Marshal writes it; false for a value
// json cannot write.
func appendReading(b []byte, r *Reading) ([]byte, bool) {
	ok := true
	num := func(b []byte, key string, v float64) []byte {
		b = append(b, key...)
		var good bool
		b, good = appendJSONFloat(b, v)
		ok = ok && good
		return b
	}
	b = num(b, `{"object_c":`, r.ObjectC)
	if r.AmbientC != nil {
		b = num(b, `,"ambient_c":`, *r.AmbientC)
	}
	if r.BodyC != nil {
		b = num(b, `,"body_c":`, *r.BodyC)
	}
	if r.DistCM != nil {
		b = num(b, `,"distance_cm":`, *r.DistCM)
	}
	if r.OffsetC != 0 {
		b = num(b, `,"offset_c":`, r.OffsetC)
	}
	b = num(b, `,"screened_c":`, r.ScreenedC)
	return append(b, '}'), ok
}

// appendVisitor appends v as json.Marshal writes it, with the personal
// fields (name, contact, from, purpose) left empty when public.
func appendVisitor(b []byte, v *Visitor, public bool) []byte {
	name, contact, from, purpose := v.Name, v.Contact, v.From, v.Purpose
	if public {
		name, contact, from, purpose = "", "", "", ""
	}
	b = appendJSONString(append(b, `{"name":`...), name)
	b = appendOmitEmpty(b, `,"contact":`, contact)
	b = appendOmitEmpty(b, `,"from":`, from)
	b = appendOmitEmpty(b, `,"visiting":`, v.Visiting)
	b = appendOmitEmpty(b, `,"purpose":`, purpose)
	if v.Returnee {
		b = append(b, `,"returnee":true`...)
	}
	b = appendOmitEmpty(b, `,"origin":`, v.Origin)
	b = appendOmitEmpty(b, `,"returned":`, v.Returned)
	return append(b, '}')
}

func appendOmitEmpty(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendJSONString(append(b, key...), s)
}

func appendJSONStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONString appends s quoted as json.Marshal quotes it. The common
// case (printable ASCII other than what json escapes, and valid UTF-8
// other than U+2028 and U+2029) is copied; anything else is left to
// json.Marshal, so the escapes stay exactly its own.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return appendMarshalled(b, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return appendMarshalled(b, s)
		}
		i += size
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendMarshalled(b []byte, s string) []byte {
	data, err := json.Marshal(s)
	if err != nil { // a string always marshals
		panic(err)
	}
	return append(b, data...)
}

// appendJSONFloat appends f as encoding/json writes a float64 (ES6
// number form); false for NaN and infinities, which json refuses.
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 to e-9, as json does
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// plainASCII reports whether s needs no JSON escaping (a formatted time
// always; checked so that a change in time's formatting cannot slip by).
func plainASCII(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// encodeEntry is e's canonical form (public: the chain's public part),
// by appendEntry, or by json.Marshal where appendEntry declines.
func encodeEntry(e Entry, public bool) ([]byte, error) {
	if b, ok := appendEntry(make([]byte, 0, 512), &e, public); ok {
		return b, nil
	}
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

// personalJSON is the JSON array of e's personal fields that
// PersonalDigest hashes, as json.Marshal writes a [5]string.
func personalJSON(b []byte, e *Entry) []byte {
	var v Visitor
	if e.Visitor != nil {
		v = *e.Visitor
	}
	b = append(b, '[')
	for i, s := range [5]string{e.Scan, v.Name, v.Contact, v.From, v.Purpose} {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}
