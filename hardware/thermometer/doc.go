// Package thermometer reads non-contact thermometer modules over a serial
// line. Reading is what every module reports; Thermometer is what a kiosk
// needs from one. Each wire protocol has its own file: gymcu90614*.go for
// the GY-MCU90614 (MLX90614 behind a small MCU).
//
// The drivers work on any io.ReadWriteCloser whose Read returns (0, nil)
// when its read timeout passes, as a serialport.Port does; the Open
// functions open one through hardware/serialport.
//
// Any package may import thermometer; it imports nothing of gatepost
// outside hardware/.
package thermometer
