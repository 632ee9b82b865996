package scanner

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLineSplitter feeds arbitrary bytes, whole and in chunks. The
// splitter must not panic, must return only non-empty UTF-8 codes within
// the limit and without terminators, must keep its buffer within the
// limit, and must split the same way however the stream is chunked.
func FuzzLineSplitter(f *testing.F) {
	f.Add([]byte("ABC-123\r\nxyz\r"), uint8(1), uint8(0))
	f.Add([]byte("one\r\ntwo\n\n\rthree\r"), uint8(3), uint8(4))
	f.Add([]byte("gr\xc3\xbc\xc3\x9fe\n\xff\xfe\r\n"), uint8(2), uint8(3))
	f.Add([]byte(strings.Repeat("x", 70)+"\r\nok\n"), uint8(7), uint8(16))
	f.Fuzz(func(t *testing.T, data []byte, chunk, max uint8) {
		limit := int(max) // 0 means the default
		whole := NewLineSplitter(limit)
		want := whole.Feed(nil, data)

		split := NewLineSplitter(limit)
		var got []Line
		size := int(chunk)%32 + 1
		for p := data; len(p) > 0; {
			n := min(size, len(p))
			got = split.Feed(got, p[:n])
			p = p[n:]
			if len(split.buf) > split.max {
				t.Fatalf("splitter holds %d bytes, limit %d", len(split.buf), split.max)
			}
		}

		for _, l := range want {
			if l.Err != nil {
				continue
			}
			if l.Text == "" || !utf8.ValidString(l.Text) || len(l.Text) > whole.max || strings.ContainsAny(l.Text, "\r\n") {
				t.Fatalf("Feed returned code %q (limit %d)", l.Text, whole.max)
			}
		}
		if g, w := describe(got), describe(want); strings.Join(g, "\x00") != strings.Join(w, "\x00") || len(g) != len(w) {
			t.Fatalf("fed in chunks of %d: %q, fed whole: %q", size, g, w)
		}
		if s, w := split.Stats(), whole.Stats(); s != w {
			t.Fatalf("Stats fed in chunks of %d = %+v, fed whole = %+v", size, s, w)
		}
	})
}
