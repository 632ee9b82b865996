package scanner

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/hardware/serialport"
)

var update = flag.Bool("update", false, "rewrite the recorded HID streams in testdata/hid")

// typeEvents encodes text as a US-layout keyboard scanner sends it: for
// each key an MSC_SCAN, the key press, SYN, the release, SYN; Shift
// around shifted characters; Enter at the end.
func typeEvents(text string) []byte {
	inverse := map[byte][2]uint16{} // char -> key, shifted
	for code, chars := range usKeys {
		if code >= 71 && code <= 83 || code == 55 || code == 98 {
			continue // prefer the main keys to the keypad
		}
		inverse[chars[0]] = [2]uint16{code, 0}
		if chars[1] != chars[0] {
			inverse[chars[1]] = [2]uint16{code, 1}
		}
	}
	var out []byte
	sec := uint64(1769932800)
	ev := func(typ, code uint16, value int32) {
		var e [inputEventSize]byte
		binary.LittleEndian.PutUint64(e[0:], sec)
		binary.LittleEndian.PutUint64(e[8:], 123456)
		binary.LittleEndian.PutUint16(e[16:], typ)
		binary.LittleEndian.PutUint16(e[18:], code)
		binary.LittleEndian.PutUint32(e[20:], uint32(value))
		out = append(out, e[:]...)
	}
	key := func(code uint16, value int32) {
		ev(0x04, 0x04, int32(0x70000+int32(code))) // EV_MSC MSC_SCAN
		ev(evKey, code, value)
		ev(0, 0, 0) // EV_SYN
	}
	for i := range len(text) {
		k, ok := inverse[text[i]]
		if !ok {
			panic(fmt.Sprintf("no key for %q", text[i]))
		}
		if k[1] == 1 {
			key(keyLeftShift, keyPress)
		}
		key(k[0], keyPress)
		key(k[0], keyRelease)
		if k[1] == 1 {
			key(keyLeftShift, keyRelease)
		}
	}
	key(keyEnter, keyPress)
	key(keyEnter, keyRelease)
	return out
}

// hidStreams are the recorded streams: the file name's text is what was
// typed.
var hidStreams = map[string]string{
	"resident_pass": "GP1:resident:3-502",
	"symbols":       `Hello, World! ~{a|b}? "q" 100% <x>`,
	"url":           "https://gate.example/p?id=AB12&k=x_y",
}

func readHex(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b, err := hex.DecodeString(line)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, b...)
	}
	return out
}

func hidGolden(t testing.TB, name string) []byte {
	path := filepath.Join("testdata", "hid", name+".hex")
	if *update {
		var b strings.Builder
		fmt.Fprintf(&b, "# input_event records (24 bytes each) of a scanner typing %q then Enter\n", hidStreams[name])
		data := typeEvents(hidStreams[name])
		for i := 0; i < len(data); i += inputEventSize {
			b.WriteString(hex.EncodeToString(data[i:i+inputEventSize]) + "\n")
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return readHex(t, path)
}

func TestHIDRecordedStreamsThroughPipe(t *testing.T) {
	t.Parallel()
	for name, want := range hidStreams {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data := hidGolden(t, name)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			h := NewHID(r, HIDOptions{})
			defer h.Close()
			go func() {
				// In odd-sized pieces, so records split across reads.
				for p := data; len(p) > 0; {
					n := min(37, len(p))
					w.Write(p[:n])
					p = p[n:]
				}
				w.Close()
			}()
			sc, err := h.Next(testContext(t))
			if err != nil || sc.Text != want {
				t.Fatalf("Next() = %q, %v; want %q", sc.Text, err, want)
			}
			if _, err := h.Next(testContext(t)); !errors.Is(err, serialport.ErrGone) {
				t.Errorf("Next() after the stream ended = %v, want ErrGone", err)
			}
		})
	}
}

func TestKeyDecoderCapsAndLimits(t *testing.T) {
	t.Parallel()
	d := NewKeyDecoder(4)
	var data []byte
	ev := func(code uint16, value int32) {
		var e [inputEventSize]byte
		binary.LittleEndian.PutUint16(e[16:], evKey)
		binary.LittleEndian.PutUint16(e[18:], code)
		binary.LittleEndian.PutUint32(e[20:], uint32(value))
		data = append(data, e[:]...)
	}
	ev(keyCapsLock, 1)
	ev(30, 1) // a -> A with caps
	ev(30, 2) // auto-repeat: ignored
	ev(keyLeftShift, 1)
	ev(30, 1) // shift with caps -> a
	ev(keyLeftShift, 0)
	ev(2, 1)   // 1
	ev(125, 1) // Meta: no character
	ev(keyEnter, 1)
	for range 6 {
		ev(30, 1)
	}
	ev(keyKPEnter, 1)
	ev(keyEnter, 1) // an empty code: nothing
	lines := d.Feed(nil, data)
	if len(lines) != 2 || lines[0].Text != "Aa1" || !errors.Is(lines[1].Err, ErrTooLong) {
		t.Fatalf("Feed() = %+v, want Aa1 then a too-long error", lines)
	}
	if d.Unknown() != 1 {
		t.Errorf("Unknown() = %d, want 1", d.Unknown())
	}
}

func FuzzKeyDecoder(f *testing.F) {
	for name := range hidStreams {
		data := readHex(f, filepath.Join("testdata", "hid", name+".hex"))
		f.Add(data, uint8(24))
		f.Add(data, uint8(5))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		whole := NewKeyDecoder(64).Feed(nil, data)
		d := NewKeyDecoder(64)
		var got []Line
		size := int(chunk)%50 + 1
		for p := data; len(p) > 0; {
			n := min(size, len(p))
			got = d.Feed(got, p[:n])
			p = p[n:]
			if len(d.code) > 64 {
				t.Fatalf("code buffer %d bytes, limit 64", len(d.code))
			}
		}
		if len(got) != len(whole) {
			t.Fatalf("%d codes split, %d whole", len(got), len(whole))
		}
		for i := range got {
			if got[i].Text != whole[i].Text || (got[i].Err == nil) != (whole[i].Err == nil) {
				t.Fatalf("code %d: %+v split, %+v whole", i, got[i], whole[i])
			}
			if bytes.ContainsAny([]byte(got[i].Text), "\r\n") {
				t.Fatalf("code %q holds a line end", got[i].Text)
			}
		}
	})
}
