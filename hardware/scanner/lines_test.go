package scanner

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// describe renders lines as strings for comparison: the text, or the
// sentinel an error wraps in angle brackets.
func describe(lines []Line) []string {
	out := []string{}
	for _, l := range lines {
		switch {
		case errors.Is(l.Err, ErrTooLong):
			out = append(out, "<too long>")
		case errors.Is(l.Err, ErrInvalidUTF8):
			out = append(out, "<invalid UTF-8>")
		case l.Err != nil:
			out = append(out, "<"+l.Err.Error()+">")
		default:
			out = append(out, l.Text)
		}
	}
	return out
}

func TestLineSplitter(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 9)
	tests := []struct {
		name   string
		max    int
		chunks []string
		want   []string
		stats  Stats
	}{
		{"CR", 0, []string{"ABC-123\r"}, []string{"ABC-123"}, Stats{Codes: 1}},
		{"LF", 0, []string{"ABC-123\n"}, []string{"ABC-123"}, Stats{Codes: 1}},
		{"CRLF", 0, []string{"ABC-123\r\n"}, []string{"ABC-123"}, Stats{Codes: 1}},
		{"CRLF across reads", 0, []string{"one\r", "\ntwo\r", "\n"}, []string{"one", "two"}, Stats{Codes: 2}},
		{"code across reads", 0, []string{"HC1:6BF", "OXN%TS3DH", "\r\n"}, []string{"HC1:6BFOXN%TS3DH"}, Stats{Codes: 1}},
		{"codes in one read", 0, []string{"a\r\nb\nc\r"}, []string{"a", "b", "c"}, Stats{Codes: 3}},
		{"empty lines ignored", 0, []string{"\r\n\r\n\n\r\rx\n\n"}, []string{"x"}, Stats{Codes: 1}},
		{"LF CR is two terminators, no empty code", 0, []string{"a\n\rb\n"}, []string{"a", "b"}, Stats{Codes: 2}},
		{"unterminated code waits", 0, []string{"a\r", "pending"}, []string{"a"}, Stats{Codes: 1}},
		{"UTF-8 across reads", 0, []string{"gr\xc3", "\xbc\xc3\x9fe\n"}, []string{"grüße"}, Stats{Codes: 1}},
		{"GS separator kept", 0, []string{"]d2\x1d0104012345\r"}, []string{"]d2\x1d0104012345"}, Stats{Codes: 1}},
		{"invalid UTF-8", 0, []string{"\xff\xfe\r\nok\r\n"}, []string{"<invalid UTF-8>", "ok"}, Stats{Codes: 1, InvalidUTF8: 1}},
		{"exactly max", 8, []string{long[:8] + "\r\n"}, []string{long[:8]}, Stats{Codes: 1}},
		{"one over max", 8, []string{long + "\r\n", "ok\r\n"}, []string{"<too long>", "ok"}, Stats{Codes: 1, TooLong: 1}},
		{"too long across reads", 8, []string{"12345", "67890", "abcdef", "\rok\r"}, []string{"<too long>", "ok"}, Stats{Codes: 1, TooLong: 1}},
		{"default max", 0, []string{strings.Repeat("q", 4096) + "\n" + strings.Repeat("q", 4097) + "\n"}, []string{strings.Repeat("q", 4096), "<too long>"}, Stats{Codes: 1, TooLong: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewLineSplitter(tt.max)
			var lines []Line
			for _, c := range tt.chunks {
				lines = s.Feed(lines, []byte(c))
			}
			got := describe(lines)
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
				t.Errorf("Feed(%q) = %q, want %q", tt.chunks, got, tt.want)
			}
			if st := s.Stats(); st != tt.stats {
				t.Errorf("Feed(%q): Stats() = %+v, want %+v", tt.chunks, st, tt.stats)
			}
		})
	}
}

func TestLineSplitterTooLongMessage(t *testing.T) {
	t.Parallel()
	s := NewLineSplitter(4)
	lines := s.Feed(nil, []byte("123456\r"))
	if len(lines) != 1 || lines[0].Err == nil {
		t.Fatalf("Feed(6 bytes, max 4) = %+v, want one error", lines)
	}
	if got, want := lines[0].Err.Error(), "scanned code too long: 6 bytes, more than the 4 allowed"; !strings.HasPrefix(got, want) {
		t.Errorf("error = %q, want it to start %q", got, want)
	}
}
