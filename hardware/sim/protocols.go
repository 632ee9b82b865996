package sim

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/gatepost/gatepost/hardware/thermometer"
)

// Protocols a simulated thermometer speaks. The byte formats are written
// out here rather than borrowed from the drivers, so that a mistake in
// one does not hide in the other. The one exception is the Modbus CRC:
// there is one, thermometer.CRC16Modbus, and the published vector
// (40 03 10 06 00 01 -> 6F DA) checks it in both packages' tests.
const (
	GYMCU90614 = "gy-mcu90614" // 5A 5A 45 04 ..., query A5 15 BA, continuous A5 45 EA
	CJMCU90614 = "cjmcu-90614" // 66 66 mode len ..., query 66 66 02 56, continuous 66 66 01 56
	A4Register = "a4-register" // A4 03 08 06 ..., read A4 03 08 06 B5
	ModbusRTU  = "modbus"      // Modbus RTU, fc 03/04, CRC-16/MODBUS
	LineASCII  = "line"        // "T=36.50 A=25.00 B=36.80 D=18\r\n" every Interval
)

// values is what a module measures at one moment.
type values struct {
	object, ambient float64
	body, distance  *float64
}

// command is what a driver asked for.
type command struct {
	continuous bool // start sending by itself
	modbus     []byte
}

// protocol is one wire format: which commands end a window of received
// bytes, and how a frame answering one looks.
type protocol interface {
	// match reports the command the bytes ending w form, if any.
	match(w []byte) (command, bool)
	// frame encodes v, answering cmd; nil means no answer.
	frame(v values, cmd command, exception byte) []byte
	// corrupt damages a frame's check.
	corrupt(f []byte)
	// streams reports whether the module sends without being asked.
	streams() bool
}

func newProtocol(name string, o ThermometerOptions) (protocol, error) {
	switch name {
	case "", GYMCU90614:
		return gyProtocol{}, nil
	case CJMCU90614:
		return cjProtocol{}, nil
	case A4Register:
		return a4Protocol{}, nil
	case ModbusRTU:
		return modbusProtocol{address: o.ModbusAddress, object: o.ModbusObjectRegister, ambient: o.ModbusAmbientRegister}, nil
	case LineASCII:
		return lineProtocol{}, nil
	}
	return nil, fmt.Errorf("simulated thermometer: unknown protocol %q", name)
}

func sum8(p []byte) byte {
	var s byte
	for _, b := range p {
		s += b
	}
	return s
}

type gyProtocol struct{}

func (gyProtocol) match(w []byte) (command, bool) {
	switch {
	case bytes.HasSuffix(w, gyQuery[:]):
		return command{}, true
	case bytes.HasSuffix(w, gyContinuous[:]):
		return command{continuous: true}, true
	}
	return command{}, false
}

func (gyProtocol) frame(v values, _ command, _ byte) []byte {
	f := gyFrame(v.object, v.ambient)
	return f[:]
}
func (gyProtocol) corrupt(f []byte) { f[len(f)-1]++ }
func (gyProtocol) streams() bool    { return false }

type cjProtocol struct{}

func (cjProtocol) match(w []byte) (command, bool) {
	switch {
	case bytes.HasSuffix(w, []byte{0x66, 0x66, 0x02, 0x56}):
		return command{}, true
	case bytes.HasSuffix(w, []byte{0x66, 0x66, 0x01, 0x56}):
		return command{continuous: true}, true
	}
	return command{}, false
}

func (cjProtocol) frame(v values, cmd command, _ byte) []byte {
	mode := byte(0x02)
	if cmd.continuous {
		mode = 0x01
	}
	o, a := centi(v.object), centi(v.ambient)
	f := []byte{0x66, 0x66, mode, 0x04, byte(o >> 8), byte(o), byte(a >> 8), byte(a), 0}
	f[8] = sum8(f[:8])
	return f
}
func (cjProtocol) corrupt(f []byte) { f[len(f)-1]++ }
func (cjProtocol) streams() bool    { return false }

type a4Protocol struct{}

func (a4Protocol) match(w []byte) (command, bool) {
	return command{}, bytes.HasSuffix(w, []byte{0xA4, 0x03, 0x08, 0x06, 0xB5})
}

func (a4Protocol) frame(v values, _ command, _ byte) []byte {
	body := v.object
	if v.body != nil {
		body = *v.body
	}
	o, a, b := centi(v.object), centi(v.ambient), centi(body)
	f := []byte{0xA4, 0x03, 0x08, 0x06, byte(o), byte(o >> 8), byte(a), byte(a >> 8), byte(b), byte(b >> 8), 0}
	f[10] = sum8(f[:10])
	return f
}
func (a4Protocol) corrupt(f []byte) { f[len(f)-1]++ }
func (a4Protocol) streams() bool    { return false }

// modbusProtocol serves two registers, object and ambient, as signed
// hundredths of a degree, to function 03 and 04.
type modbusProtocol struct {
	address         byte
	object, ambient uint16
}

// crc16 is the Modbus RTU CRC, sent low byte first.
func crc16(p []byte) uint16 { return thermometer.CRC16Modbus(p) }

func (m modbusProtocol) match(w []byte) (command, bool) {
	if len(w) < 8 {
		return command{}, false
	}
	r := w[len(w)-8:]
	if r[0] != m.address || (r[1] != 3 && r[1] != 4) || binary.LittleEndian.Uint16(r[6:]) != crc16(r[:6]) {
		return command{}, false
	}
	return command{modbus: bytes.Clone(r)}, true
}

func (m modbusProtocol) frame(v values, cmd command, exception byte) []byte {
	req := cmd.modbus
	if req == nil {
		return nil
	}
	reg, count := binary.BigEndian.Uint16(req[2:]), binary.BigEndian.Uint16(req[4:])
	out := []byte{m.address, req[1]}
	if exception == 0 && (count < 1 || count > 2) {
		exception = 3
	}
	var data []byte
	for i := range count {
		switch reg + i {
		case m.object:
			data = binary.BigEndian.AppendUint16(data, centi(v.object))
		case m.ambient:
			data = binary.BigEndian.AppendUint16(data, centi(v.ambient))
		default:
			if exception == 0 {
				exception = 2
			}
		}
	}
	if exception != 0 {
		out = append(out[:1], req[1]|0x80, exception)
	} else {
		out = append(out, byte(len(data)))
		out = append(out, data...)
	}
	return binary.LittleEndian.AppendUint16(out, crc16(out))
}
func (modbusProtocol) corrupt(f []byte) { f[len(f)-1]++ }
func (modbusProtocol) streams() bool    { return false }

type lineProtocol struct{}

func (lineProtocol) match([]byte) (command, bool) { return command{}, false }

func (lineProtocol) frame(v values, _ command, _ byte) []byte {
	s := fmt.Sprintf("T=%.2f A=%.2f", v.object, v.ambient)
	if v.body != nil {
		s += fmt.Sprintf(" B=%.2f", *v.body)
	}
	if v.distance != nil {
		s += fmt.Sprintf(" D=%.0f", *v.distance)
	}
	return []byte(s + "\r\n")
}

// corrupt garbles a digit, so the line no longer matches a number.
func (lineProtocol) corrupt(f []byte) {
	if i := bytes.IndexByte(f, '.'); i >= 0 {
		f[i] = '#'
	}
}
func (lineProtocol) streams() bool { return true }

// LinePattern is a pattern the line driver can use to read the simulated
// line module.
const LinePattern = `T=(?P<object>-?[0-9.]+) A=(?P<ambient>-?[0-9.]+)(?: B=(?P<body>[0-9.]+))?(?: D=(?P<distance>[0-9.]+))?`
