package thermometer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/gatepost/gatepost/hardware"
)

// FrameProfile describes a fixed-length binary frame as data, so that a
// module of the same family is a configuration change, not code: its
// header, its length, where each value sits, and how it is checked.
type FrameProfile struct {
	Name   string
	Baud   int    // the module's usual speed, for OpenFramed when the line config leaves it 0
	Header []byte // the bytes every frame starts with
	Length int    // whole frame, header and checksum included
	// Query is sent before each Read; empty means the module sends
	// frames by itself (continuous mode) and Read waits for the next.
	Query    []byte
	Checksum Checksum
	Object   Field
	Ambient  *Field
	Body     *Field
	Distance *Field // in cm
}

// Checksum says how a frame's last byte is checked.
type Checksum struct {
	Kind string // "sum8" (low byte of the sum), "xor8", or "none"
	From int    // first byte covered; the checksum covers From up to the byte before At
	At   int    // where the checksum byte sits; 0 means the last byte
}

// Field is one value in a frame: Size bytes (1, 2 or 4) at Offset,
// big-endian unless LittleEndian, signed unless Unsigned, times Scale.
type Field struct {
	Offset       int
	Size         int // 0 means 2
	LittleEndian bool
	Unsigned     bool
	Scale        float64 // 0 means 0.01
}

// Profiles returns the built-in frame profiles by name. Each call returns
// fresh values, which the caller may change.
func Profiles() map[string]FrameProfile {
	hundredths := Field{Scale: 0.01}
	at := func(f Field, off int) *Field { f.Offset = off; return &f }
	le := Field{Scale: 0.01, LittleEndian: true}
	return map[string]FrameProfile{
		// GY-MCU90614 (an MLX90614 behind a small MCU), TTL UART 9600
		// 8N1: the query A5 15 BA asks for one frame (and leaves
		// continuous mode); the module answers
		// 5A 5A 45 04 TOh TOl TAh TAl SUM, object and ambient in signed
		// big-endian hundredths of a degree (sub-zero ambients work),
		// SUM the low byte of the sum of the eight bytes before it.
		// kiosk.toml names this driver "gy-mcu90614": keep the name.
		"gy-mcu90614": {
			Name: "gy-mcu90614", Baud: 9600,
			Header: []byte{0x5A, 0x5A, 0x45, 0x04}, Length: 9,
			Query:    []byte{0xA5, 0x15, 0xBA},
			Checksum: Checksum{Kind: "sum8"},
			Object:   *at(hundredths, 4), Ambient: at(hundredths, 6),
		},
		// CJMCU-90614: 66 66 mode len D1h D1l D2h D2l SUM, 115200 baud;
		// commands 66 66 <cmd> 56, 02 = one frame.
		"cjmcu-90614": {
			Name: "cjmcu-90614", Baud: 115200,
			Header: []byte{0x66, 0x66}, Length: 9,
			Query:    []byte{0x66, 0x66, 0x02, 0x56},
			Checksum: Checksum{Kind: "sum8"},
			Object:   *at(hundredths, 4), Ambient: at(hundredths, 6),
		},
		// Register-style module at address A4: reading registers 08-0D
		// (object, ambient, body; low byte first) with A4 03 08 06 B5
		// answers A4 03 08 06 OL OH AL AH BL BH SUM.
		"a4-register": {
			Name: "a4-register", Baud: 9600,
			Header: []byte{0xA4, 0x03, 0x08, 0x06}, Length: 11,
			Query:    []byte{0xA4, 0x03, 0x08, 0x06, 0xB5},
			Checksum: Checksum{Kind: "sum8"},
			Object:   *at(le, 4), Ambient: at(le, 6), Body: at(le, 8),
		},
	}
}

// ProfileNames returns the built-in profiles' names, sorted.
func ProfileNames() []string {
	var names []string
	for n := range Profiles() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Validate names the first field of p that cannot work: a
// *hardware.SettingError, its setting spelled as kiosk.toml's
// [thermometer.frame] section spells it, wrapped in the profile's name.
func (p FrameProfile) Validate() error {
	bad := func(setting string, v any, want string) error {
		return fmt.Errorf("frame profile %q: %w", p.Name, &hardware.SettingError{Setting: setting, Value: v, Want: want})
	}
	switch {
	case len(p.Header) == 0:
		return bad("header", "", "must not be empty: frames need a header to be found in a stream")
	case p.Length < len(p.Header)+1 || p.Length > 64:
		return bad("length", p.Length, fmt.Sprintf("must be more than the header (%d bytes) and at most 64", len(p.Header)))
	}
	switch p.Checksum.Kind {
	case "sum8", "xor8":
		at := p.checksumAt()
		if at < 1 || at >= p.Length {
			return bad("checksum_at", at, fmt.Sprintf("must be a byte inside the %d-byte frame, after the first", p.Length))
		}
		if p.Checksum.From < 0 || p.Checksum.From >= at {
			return bad("checksum_from", p.Checksum.From, fmt.Sprintf("must be a byte inside the frame before the checksum byte %d", at))
		}
	case "none":
	default:
		return bad("checksum", p.Checksum.Kind, "must be sum8, xor8 or none")
	}
	for _, f := range []struct {
		name string
		f    *Field
	}{{"object", &p.Object}, {"ambient", p.Ambient}, {"body", p.Body}, {"distance", p.Distance}} {
		if f.f == nil {
			continue
		}
		size := f.f.size()
		if size != 1 && size != 2 && size != 4 {
			return bad(f.name+".size", size, "must be 1, 2 or 4 bytes")
		}
		if f.f.Offset < 0 || f.f.Offset+size > p.Length {
			return bad(f.name+".offset", f.f.Offset, fmt.Sprintf("a %d-byte value there lies outside the %d-byte frame", size, p.Length))
		}
	}
	return nil
}

func (p FrameProfile) checksumAt() int {
	if p.Checksum.At == 0 {
		return p.Length - 1
	}
	return p.Checksum.At
}

func (f Field) size() int {
	if f.Size == 0 {
		return 2
	}
	return f.Size
}

func (f Field) scale() float64 {
	if f.Scale == 0 {
		return 0.01
	}
	return f.Scale
}

// value decodes f from frame.
func (f Field) value(frame []byte) float64 {
	b := frame[f.Offset : f.Offset+f.size()]
	var raw uint32
	switch len(b) {
	case 1:
		raw = uint32(b[0])
		if !f.Unsigned {
			return float64(int8(raw)) * f.scale()
		}
	case 2:
		if f.LittleEndian {
			raw = uint32(binary.LittleEndian.Uint16(b))
		} else {
			raw = uint32(binary.BigEndian.Uint16(b))
		}
		if !f.Unsigned {
			return float64(int16(raw)) * f.scale()
		}
	default:
		if f.LittleEndian {
			raw = binary.LittleEndian.Uint32(b)
		} else {
			raw = binary.BigEndian.Uint32(b)
		}
		if !f.Unsigned {
			return float64(int32(raw)) * f.scale()
		}
	}
	return float64(raw) * f.scale()
}

// checksumOK reports whether frame passes p's check.
func (p FrameProfile) checksumOK(frame []byte) bool {
	at := p.checksumAt()
	var c byte
	switch p.Checksum.Kind {
	case "sum8":
		for _, b := range frame[p.Checksum.From:at] {
			c += b
		}
	case "xor8":
		for _, b := range frame[p.Checksum.From:at] {
			c ^= b
		}
	default:
		return true
	}
	return frame[at] == c
}

// reading decodes every value p defines from a checked frame.
func (p FrameProfile) reading(frame []byte) Reading {
	r := Reading{Object: p.Object.value(frame)}
	if p.Ambient != nil {
		r.Ambient, r.HasAmbient = p.Ambient.value(frame), true
	}
	if p.Body != nil {
		r.Body, r.HasBody = p.Body.value(frame), true
	}
	if p.Distance != nil {
		r.Distance, r.HasDistance = p.Distance.value(frame), true
	}
	return r
}

// ErrUnknownProfile means no built-in profile has the name asked for.
var ErrUnknownProfile = errors.New("unknown frame profile")

// LookupProfile returns the built-in profile called name.
func LookupProfile(name string) (FrameProfile, error) {
	p, ok := Profiles()[name]
	if !ok {
		return FrameProfile{}, fmt.Errorf("%w %q: built in are %v", ErrUnknownProfile, name, ProfileNames())
	}
	return p, nil
}
