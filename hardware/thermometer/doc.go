// Package thermometer reads non-contact thermometer modules over a serial
// line. Reading is what every module reports; Thermometer is what a kiosk
// needs from one. Each wire protocol has its own file: frame*.go for
// fixed-length binary frames described as data (FrameProfile: the
// GY-MCU90614, CJMCU-90614 and A4 register modules are built-in profiles),
// modbus*.go for Modbus RTU modules, line.go for modules that print ASCII
// lines; query.go is the request/answer loop they share.
//
// The drivers work on any io.ReadWriteCloser whose Read returns (0, nil)
// when its read timeout passes, as a serialport.Port does; the Open
// functions open one through hardware/serialport.
//
// The kiosk imports it (its config and its device wiring), and so does
// hardware/sim, for the one Modbus CRC; any package may. It imports
// nothing of gatepost outside hardware/.
package thermometer
