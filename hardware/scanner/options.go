package scanner

import (
	"bytes"
	"strings"
	"time"
)

// Trigger is a scanner's serial trigger: the command that starts a scan
// attempt and, if it has one, the one that stops it.
type Trigger struct {
	Name  string
	Start []byte
	Stop  []byte
	// Every re-sends Start while Next waits, for scanners whose attempt
	// times out by itself; 0 means 3 s.
	Every time.Duration
}

// Triggers returns the built-in trigger profiles by name; each call
// returns fresh values.
func Triggers() map[string]Trigger {
	return map[string]Trigger{
		"honeywell": {Name: "honeywell", Start: []byte{0x16, 0x54, 0x0D}, Stop: []byte{0x16, 0x55, 0x0D}},
		"gm65":      {Name: "gm65", Start: []byte{0x7E, 0x00, 0x08, 0x01, 0x00, 0x02, 0x01, 0xAB, 0xCD}},
		"zkteco":    {Name: "zkteco", Start: []byte("T"), Stop: []byte("P")},
		"datalogic": {Name: "datalogic", Start: []byte("T"), Stop: []byte("X")},
	}
}

// DefaultNoRead are the replies scanners send when a triggered attempt
// found no code.
func DefaultNoRead() []string { return []string{"%%NoRead", "NoRead", "NR"} }

// stripAIM removes an AIM symbology identifier (]Q1 for QR, ]d2 Data
// Matrix, ]C0 Code 128, ]E0 EAN...): a ']', a letter, and a modifier.
func stripAIM(code string) string {
	if len(code) >= 3 && code[0] == ']' && isAlpha(code[1]) && isAlnum(code[2]) {
		return code[3:]
	}
	return code
}

func isAlpha(b byte) bool { return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' }
func isAlnum(b byte) bool { return isAlpha(b) || b >= '0' && b <= '9' }

// isNoRead reports whether code is one of the no-read replies.
func isNoRead(code string, replies []string) bool {
	code = strings.TrimSpace(code)
	for _, r := range replies {
		if code == r {
			return true
		}
	}
	return false
}

func cloneBytes(b []byte) []byte { return bytes.Clone(b) }
