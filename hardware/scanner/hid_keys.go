package scanner

import (
	"encoding/binary"
	"sync/atomic"
)

// Linux input events, as read from /dev/input/event*: on 64-bit Linux
// each is 24 bytes, a timeval (16), type (2), code (2), value (4), in the
// machine's byte order (little-endian on every platform we run on).
const (
	inputEventSize = 24
	evKey          = 0x01
	keyRelease     = 0
	keyPress       = 1
)

// Key codes from linux/input-event-codes.h that a US keyboard layout
// scanner sends.
const (
	keyEnter      = 28
	keyLeftShift  = 42
	keyRightShift = 54
	keyKPEnter    = 96
	keyCapsLock   = 58
)

// usKeys maps key codes to the characters of a US layout, unshifted and
// shifted.
var usKeys = func() map[uint16][2]byte {
	m := map[uint16][2]byte{}
	row := func(first uint16, plain, shifted string) {
		for i := range len(plain) {
			m[first+uint16(i)] = [2]byte{plain[i], shifted[i]}
		}
	}
	row(2, "1234567890-=", "!@#$%^&*()_+")
	row(16, "qwertyuiop[]", "QWERTYUIOP{}")
	row(30, "asdfghjkl;'`", "ASDFGHJKL:\"~")
	row(43, "\\zxcvbnm,./", "|ZXCVBNM<>?")
	m[57] = [2]byte{' ', ' '}
	m[55] = [2]byte{'*', '*'} // keypad
	row(71, "789-456+1230.", "789-456+1230.")
	m[98] = [2]byte{'/', '/'}
	return m
}()

// KeyDecoder turns a stream of input_event records from a scanner in HID
// keyboard mode into codes: key presses become characters (US layout,
// Shift and Caps Lock honoured), Enter ends a code. Records may arrive
// split across reads. Keys with no character are counted and skipped.
// Memory is bounded by maxLength.
type KeyDecoder struct {
	max      int
	pending  [inputEventSize]byte
	n        int
	shift    int // shift keys held
	caps     bool
	code     []byte
	overflow bool

	unknown atomic.Uint64
}

// NewKeyDecoder returns a decoder accepting codes up to maxLength bytes;
// maxLength <= 0 means DefaultMaxLength.
func NewKeyDecoder(maxLength int) *KeyDecoder {
	if maxLength <= 0 {
		maxLength = DefaultMaxLength
	}
	return &KeyDecoder{max: maxLength}
}

// Feed decodes p and appends every code an Enter completes to dst.
func (d *KeyDecoder) Feed(dst []Line, p []byte) []Line {
	for len(p) > 0 {
		k := copy(d.pending[d.n:], p)
		d.n += k
		p = p[k:]
		if d.n < inputEventSize {
			break
		}
		d.n = 0
		typ := binary.LittleEndian.Uint16(d.pending[16:])
		code := binary.LittleEndian.Uint16(d.pending[18:])
		value := int32(binary.LittleEndian.Uint32(d.pending[20:]))
		if typ != evKey {
			continue // EV_SYN, EV_MSC scan codes, LEDs
		}
		dst = d.key(dst, code, value)
	}
	return dst
}

func (d *KeyDecoder) key(dst []Line, code uint16, value int32) []Line {
	switch code {
	case keyLeftShift, keyRightShift:
		switch value {
		case keyPress:
			d.shift++
		case keyRelease:
			d.shift = max(d.shift-1, 0)
		}
		return dst
	}
	if value != keyPress {
		return dst // releases; auto-repeat (2) is the kernel's, not the scanner's
	}
	switch code {
	case keyCapsLock:
		d.caps = !d.caps
		return dst
	case keyEnter, keyKPEnter:
		line := Line{Text: string(d.code)}
		switch {
		case d.overflow:
			line = Line{Err: errTooLongHID(d.max)}
		case len(d.code) == 0:
			d.code, d.overflow = d.code[:0], false
			return dst
		}
		d.code, d.overflow = d.code[:0], false
		return append(dst, line)
	}
	chars, ok := usKeys[code]
	if !ok {
		d.unknown.Add(1)
		return dst
	}
	c := chars[0]
	shifted := d.shift > 0
	if d.caps && c >= 'a' && c <= 'z' {
		shifted = !shifted
	}
	if shifted {
		c = chars[1]
	}
	if len(d.code) >= d.max {
		d.overflow = true
		return dst
	}
	d.code = append(d.code, c)
	return dst
}

// Unknown counts key presses with no character in the layout.
func (d *KeyDecoder) Unknown() uint64 { return d.unknown.Load() }
