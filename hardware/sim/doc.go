// Package sim simulates gatepost's devices on real pseudo-terminals:
// thermometer modules (GY-MCU90614, CJMCU-90614, A4 register, Modbus RTU,
// ASCII line) and a serial code scanner. Each simulator speaks the
// device's real wire protocol on the leader side of a pty and gives the
// follower's path (/dev/pts/N) to open with the real drivers, so tests
// exercise go.bug.st/serial, termios and the kernel, not a fake.
//
// Simulators are for tests, the demo and a kiosk configured with
// simulate = true; they are never the real device. Tests anywhere in
// gatepost, the kiosk's device wiring and the demo import sim (tests start
// simulators with sim/simtest, which closes them when the test ends). It imports
// nothing of gatepost outside hardware/, and of hardware only
// thermometer's Modbus CRC: the wire formats are otherwise written out
// here, so that a mistake in a driver does not hide in its simulator.
//
// A simulator keeps its own follower descriptor open for its whole life.
// Without it, reading the leader fails with EIO whenever no driver has the
// port open. With it, /dev/pts/N behaves like a device that stays plugged
// in while kiosks come and go: a driver can close it, be killed, and open
// the same path again (see ReleaseExclusive for the one catch).
package sim
