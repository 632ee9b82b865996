package thermometer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"sync/atomic"
)

// Modbus RTU wire format. A read request is
//
//	addr fc regHi regLo countHi countLo crcLo crcHi
//
// (fc 0x03 holding registers, 0x04 input registers); the answer is
//
//	addr fc byteCount data… crcLo crcHi
//
// or, when the module refuses, addr (fc|0x80) code crcLo crcHi. The CRC is
// CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), sent low byte first.

// CRC16Modbus returns the CRC-16/MODBUS of p.
func CRC16Modbus(p []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, b := range p {
		crc ^= uint16(b)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xA001
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}

// ModbusReadRequest encodes a read of count registers from reg at address.
func ModbusReadRequest(address, function byte, reg, count uint16) []byte {
	p := []byte{address, function, byte(reg >> 8), byte(reg), byte(count >> 8), byte(count)}
	return binary.LittleEndian.AppendUint16(p, CRC16Modbus(p))
}

// ModbusException is a module's refusal of a request.
type ModbusException struct {
	Function byte // the request's function code
	Code     byte
}

func (e *ModbusException) Error() string {
	return fmt.Sprintf("Modbus exception %02X (%s) to function %02X: %s", e.Code, e.Name(), e.Function, e.advice())
}

// Name returns the exception's name from the Modbus specification.
func (e *ModbusException) Name() string {
	switch e.Code {
	case 0x01:
		return "illegal function"
	case 0x02:
		return "illegal data address"
	case 0x03:
		return "illegal data value"
	case 0x04:
		return "server device failure"
	case 0x05:
		return "acknowledge"
	case 0x06:
		return "server device busy"
	case 0x08:
		return "memory parity error"
	case 0x0A:
		return "gateway path unavailable"
	case 0x0B:
		return "gateway target device failed to respond"
	}
	return "unknown exception"
}

func (e *ModbusException) advice() string {
	switch e.Code {
	case 0x01:
		return "the module does not support this function code; try function 3 instead of 4 or the other way round"
	case 0x02, 0x03:
		return "the module has no such register or count; check the register number in its manual"
	case 0x05, 0x06:
		return "the module is busy; raise poll_interval"
	}
	return "see the module's manual"
}

// ModbusValue says how the answer's registers make a temperature.
type ModbusValue struct {
	Count    uint16  // registers: 1 (16-bit) or 2 (32-bit); 0 means 1
	Signed   bool    // two's complement
	WordSwap bool    // 32-bit only: low word first (CDAB) rather than high word first (ABCD)
	Scale    float64 // °C per count, e.g. 0.01 or 0.1; 0 means 1
	Float    bool    // 32-bit only: the registers hold an IEEE-754 float
	Offset   float64 // added after scaling, e.g. -273.15 for a module that reports kelvin
}

func (v ModbusValue) count() uint16 { return max(v.Count, 1) }

// decode turns the register bytes (big-endian within each register) into °C.
func (v ModbusValue) decode(data []byte) float64 {
	var raw uint32
	if v.count() == 1 {
		raw = uint32(binary.BigEndian.Uint16(data))
		if v.Signed {
			return v.apply(float64(int16(raw)))
		}
		return v.apply(float64(raw))
	}
	hi, lo := binary.BigEndian.Uint16(data), binary.BigEndian.Uint16(data[2:])
	if v.WordSwap {
		hi, lo = lo, hi
	}
	raw = uint32(hi)<<16 | uint32(lo)
	switch {
	case v.Float:
		return float64(math.Float32frombits(raw))*v.scale() + v.Offset
	case v.Signed:
		return v.apply(float64(int32(raw)))
	}
	return v.apply(float64(raw))
}

func (v ModbusValue) scale() float64 {
	if v.Scale == 0 {
		return 1
	}
	return v.Scale
}

func (v ModbusValue) apply(raw float64) float64 { return raw*v.scale() + v.Offset }

// ModbusDecoder finds the answer to one read request in a byte stream:
// from address, with the request's function and the byte count its
// register count implies, with a good CRC; or an exception. Bytes that
// cannot begin such an answer are skipped and counted, so it
// resynchronises after noise. Memory is bounded by one answer.
type ModbusDecoder struct {
	address, function byte
	value             ModbusValue

	pending []byte
	echo    []byte // the request, if the line may echo it back (half-duplex RS-485 adapters)

	frames, badChecksum, garbage atomic.Uint64
}

// NewModbusDecoder returns a decoder for answers to a read of v.Count
// registers with function from address.
func NewModbusDecoder(address, function byte, v ModbusValue) *ModbusDecoder {
	return &ModbusDecoder{address: address, function: function, value: v, pending: make([]byte, 0, 5+2*int(v.count())*2)}
}

func (d *ModbusDecoder) answerLen() int { return 5 + 2*int(d.value.count()) }

// Feed decodes p and returns the temperature of the first good answer, as
// the Object of a Reading, or the module's exception as an error wrapping
// *ModbusException.
func (d *ModbusDecoder) Feed(p []byte) (Reading, bool, error) {
	for _, b := range p {
		d.pending = append(d.pending, b)
		r, ok, err := d.settle()
		if ok || err != nil {
			return r, ok, err
		}
	}
	return Reading{}, false, nil
}

// settle consumes pending bytes until what remains could begin an answer,
// returning a reading or an exception if one is complete.
func (d *ModbusDecoder) settle() (Reading, bool, error) {
	for len(d.pending) > 0 {
		if len(d.echo) > 0 {
			n := min(len(d.pending), len(d.echo))
			if bytes.Equal(d.pending[:n], d.echo[:n]) {
				if len(d.pending) < len(d.echo) {
					return Reading{}, false, nil // may still be our request echoed
				}
				d.drop(len(d.echo))
				d.echo = nil
				continue
			}
			d.echo = nil // not an echo: an answer or noise
		}
		need, possible := d.shape(d.pending)
		if !possible {
			d.drop(1)
			d.garbage.Add(1)
			continue
		}
		if len(d.pending) < need {
			return Reading{}, false, nil
		}
		f := d.pending[:need]
		if binary.LittleEndian.Uint16(f[need-2:]) != CRC16Modbus(f[:need-2]) {
			d.badChecksum.Add(1)
			d.drop(1)
			continue
		}
		d.frames.Add(1)
		if f[1]&0x80 != 0 {
			err := &ModbusException{Function: d.function, Code: f[2]}
			d.pending = d.pending[:0]
			return Reading{}, false, err
		}
		r := Reading{Object: d.value.decode(f[3 : need-2])}
		d.pending = d.pending[:0]
		return r, true, nil
	}
	return Reading{}, false, nil
}

// shape reports how long the answer beginning p would be, and whether p
// can begin one at all.
func (d *ModbusDecoder) shape(p []byte) (int, bool) {
	if p[0] != d.address {
		return 0, false
	}
	if len(p) < 2 {
		return d.answerLen(), true
	}
	switch p[1] {
	case d.function | 0x80:
		return 5, true
	case d.function:
		if len(p) >= 3 && int(p[2]) != 2*int(d.value.count()) {
			return 0, false
		}
		return d.answerLen(), true
	}
	return 0, false
}

func (d *ModbusDecoder) drop(k int) {
	n := copy(d.pending, d.pending[k:])
	d.pending = d.pending[:n]
}

// Reset forgets a partly received answer. Counters are kept.
func (d *ModbusDecoder) Reset() { d.pending = d.pending[:0] }

// ExpectEcho tells the decoder that req was just sent, so that req coming
// back first (a half-duplex RS-485 adapter hears itself) is skipped
// rather than taken for noise.
func (d *ModbusDecoder) ExpectEcho(req []byte) { d.echo = append(d.echo[:0], req...) }

// Stats returns what the decoder has seen so far.
func (d *ModbusDecoder) Stats() Stats {
	return Stats{Frames: d.frames.Load(), BadChecksum: d.badChecksum.Load(), Garbage: d.garbage.Load()}
}
