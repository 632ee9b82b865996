package thermometer

import "sync/atomic"

// GY-MCU90614 wire format (TTL UART, 9600 8N1). Commands are three bytes;
// the module answers with a 9-byte frame
//
//	5A 5A 45 04 TOh TOl TAh TAl SUM
//
// where TO and TA are the object and ambient temperatures in hundredths of
// a degree, big-endian, signed so that sub-zero ambients work, and SUM is
// the low byte of the sum of the eight bytes before it.
const (
	gyFrameLen = 9
	gyQuery    = "\xA5\x15\xBA" // send one frame (and leave continuous mode)
)

var gyHeader = [4]byte{0x5A, 0x5A, 0x45, 0x04}

// GYFrame is one temperature frame from a GY-MCU90614, as sent on the wire.
type GYFrame [9]byte

// Object returns the object temperature in °C.
func (f GYFrame) Object() float64 { return float64(int16(uint16(f[4])<<8|uint16(f[5]))) / 100 }

// Ambient returns the ambient (sensor die) temperature in °C.
func (f GYFrame) Ambient() float64 { return float64(int16(uint16(f[6])<<8|uint16(f[7]))) / 100 }

// ChecksumOK reports whether the last byte is the low byte of the sum of
// the others.
func (f GYFrame) ChecksumOK() bool {
	var sum byte
	for _, b := range f[:gyFrameLen-1] {
		sum += b
	}
	return sum == f[gyFrameLen-1]
}

// GYDecoder cuts a GY-MCU90614 byte stream into frames. Feed it chunks as
// they are read, however they are split; it reassembles frames across
// chunks, resynchronises on the 5A 5A 45 04 header after garbage, and
// drops and counts frames with a bad checksum. It holds at most one partial
// frame, so its memory is bounded whatever it is fed.
//
// The zero value is ready to use. Feed must not be called concurrently;
// Stats may be.
type GYDecoder struct {
	pending [gyFrameLen]byte
	n       int

	frames, badChecksum, garbage atomic.Uint64
}

// Feed decodes p and appends every complete valid frame to dst.
func (d *GYDecoder) Feed(dst []GYFrame, p []byte) []GYFrame {
	// Byte by byte: the decision at each byte then depends only on the
	// bytes before it, so results never depend on how reads split the
	// stream. At 9600 baud speed is not a concern.
	for _, b := range p {
		d.pending[d.n] = b
		d.n++
		dst = d.settle(dst)
	}
	return dst
}

// settle consumes pending bytes until what remains is a (possibly empty)
// valid beginning of a frame.
func (d *GYDecoder) settle(dst []GYFrame) []GYFrame {
	for d.n > 0 {
		if !headerSoFar(d.pending[:d.n]) {
			d.drop(1)
			d.garbage.Add(1)
			continue
		}
		if d.n < gyFrameLen {
			return dst
		}
		f := GYFrame(d.pending)
		if f.ChecksumOK() {
			d.frames.Add(1)
			d.n = 0
			return append(dst, f)
		}
		d.badChecksum.Add(1)
		// A real frame may start inside the rejected one (say the line
		// lost bytes): drop only up to the first place a header could
		// begin.
		skip := 1
		for skip < gyFrameLen && !headerSoFar(d.pending[skip:d.n]) {
			skip++
		}
		d.drop(skip)
	}
	return dst
}

// headerSoFar reports whether p could be the beginning of a frame.
func headerSoFar(p []byte) bool {
	for i := 0; i < len(p) && i < len(gyHeader); i++ {
		if p[i] != gyHeader[i] {
			return false
		}
	}
	return true
}

func (d *GYDecoder) drop(k int) {
	copy(d.pending[:], d.pending[k:d.n])
	d.n -= k
}

// Reset forgets a partly received frame, for when the bytes that would
// complete it have been discarded. Counters are kept.
func (d *GYDecoder) Reset() { d.n = 0 }

// Stats returns what the decoder has seen so far.
func (d *GYDecoder) Stats() Stats {
	return Stats{Frames: d.frames.Load(), BadChecksum: d.badChecksum.Load(), Garbage: d.garbage.Load()}
}
