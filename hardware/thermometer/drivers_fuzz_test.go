package thermometer

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
)

func formatReading(r Reading) string { return fmt.Sprintf("%+v", r) }

// FuzzModbusDecoder: arbitrary bytes never panic and never make the
// decoder hold more than one answer; every answer it accepts is counted,
// and feeding in chunks (dropping what follows an answer, as a driver
// does) never yields an answer byte-by-byte feeding would not.
func FuzzModbusDecoder(f *testing.F) {
	for _, s := range loadStreams(f, "modbus") {
		f.Add(bytes.Join(s.reads, nil), uint8(1), uint8(1))
		f.Add(bytes.Join(s.reads, nil), uint8(3), uint8(2))
		f.Add(bytes.Join(s.reads, nil), uint8(2), uint8(32))
	}
	f.Add([]byte{0x40, 0x03, 0x04, 0, 0, 0x0E, 0x42, 0, 0}, uint8(2), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, chunk, count uint8) {
		v := ModbusValue{Count: uint16(count%2 + 1), Signed: count&4 != 0, WordSwap: count&8 != 0, Float: count&16 != 0 && count%2 == 1}
		var echo []byte
		if count&32 != 0 && len(data) >= 8 {
			echo = data[:8] // the stream may start with an echoed request
		}
		d := NewModbusDecoder(0x40, 0x03, v)
		d.ExpectEcho(echo)
		answers := map[string]bool{}
		for _, b := range data {
			r, ok, err := d.Feed([]byte{b})
			switch {
			case err != nil:
				answers[err.Error()] = true
			case ok:
				answers[formatReading(r)] = true
			}
			if limit := max(d.answerLen(), len(echo)); len(d.pending) >= limit {
				t.Fatalf("decoder holds %d bytes, an answer or echo is at most %d", len(d.pending), limit)
			}
		}
		if s := d.Stats(); s.Frames+s.BadChecksum+s.Garbage > uint64(len(data))*2 {
			t.Fatalf("stats %+v for %d bytes", s, len(data))
		}
		c := NewModbusDecoder(0x40, 0x03, v)
		c.ExpectEcho(echo)
		size := int(chunk)%7 + 1
		for q := data; len(q) > 0; {
			n := min(size, len(q))
			r, ok, err := c.Feed(q[:n])
			if err != nil && !answers[err.Error()] || ok && !answers[formatReading(r)] {
				t.Fatalf("chunks of %d gave %+v %v, which byte-by-byte did not", size, r, err)
			}
			q = q[n:]
		}
	})
}

// FuzzFrameDecoder: every built-in profile, whole and split; frames
// returned pass their checksum and start with the header.
func FuzzFrameDecoder(f *testing.F) {
	names := ProfileNames()
	for i, name := range names {
		if name == "gy-mcu90614" {
			continue // its streams are in the GY golden set below
		}
		for _, s := range loadStreams(f, name) {
			f.Add(bytes.Join(s.reads, nil), uint8(1), uint8(i))
		}
	}
	for _, g := range loadStreams(f, "gymcu90614") {
		f.Add(bytes.Join(g.reads, nil), uint8(3), uint8(slices.Index(names, "gy-mcu90614")))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk, which uint8) {
		p := Profiles()[names[int(which)%len(names)]]
		whole, _ := NewFrameDecoder(p)
		want := whole.FeedAll(nil, data)
		split, _ := NewFrameDecoder(p)
		var got []Reading
		size := int(chunk)%16 + 1
		for q := data; len(q) > 0; {
			n := min(size, len(q))
			got = split.FeedAll(got, q[:n])
			q = q[n:]
			if len(split.pending) >= p.Length {
				t.Fatalf("decoder holds %d bytes, want fewer than %d", len(split.pending), p.Length)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d frames split, %d whole", p.Name, len(got), len(want))
		}
		for i := range got {
			if formatReading(got[i]) != formatReading(want[i]) {
				t.Fatalf("%s frame %d: %+v split, %+v whole", p.Name, i, got[i], want[i])
			}
		}
		if split.Stats() != whole.Stats() {
			t.Fatalf("%s: stats %+v split, %+v whole", p.Name, split.Stats(), whole.Stats())
		}
	})
}

// FuzzLineDecoder: any bytes, any split; bounded memory, no panic, same
// readings.
func FuzzLineDecoder(f *testing.F) {
	for _, s := range loadStreams(f, "line") {
		f.Add(bytes.Join(s.reads, nil), uint8(1))
		f.Add(bytes.Join(s.reads, nil), uint8(5))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		d, err := NewLineDecoder(testLinePattern)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, b := range data {
			if r, ok, _ := d.Feed([]byte{b}); ok {
				seen[formatReading(r)] = true
				if r.Object != r.Object {
					t.Fatalf("NaN reading from %q", data)
				}
			}
			if len(d.line) > maxLine {
				t.Fatalf("line buffer %d bytes, limit %d", len(d.line), maxLine)
			}
		}
		c, _ := NewLineDecoder(testLinePattern)
		size := int(chunk)%9 + 1
		for q := data; len(q) > 0; {
			n := min(size, len(q))
			if r, ok, _ := c.Feed(q[:n]); ok && !seen[formatReading(r)] {
				t.Fatalf("chunks of %d gave %+v, which byte-by-byte did not", size, r)
			}
			q = q[n:]
		}
	})
}
