// Package serialport opens serial ports for gatepost's device drivers. It
// wraps go.bug.st/serial with the line settings our devices use, a read
// timeout that drivers rely on, and errors a person can act on
// (ErrNotFound, ErrBusy, ErrPermission, ErrNotSerial, ErrClosed, ErrGone).
//
// Reads follow go.bug.st/serial: when the read timeout passes with no data,
// Read returns (0, nil). That means "no data yet", never end of stream;
// drivers loop on it and check their context in between. Do not wrap a
// Port in io.ReadFull or bufio.Scanner, which treat (0, nil) as progress.
//
// Any package may import serialport; of gatepost it imports only the root
// hardware package (SettingError).
// The drivers in hardware/thermometer and hardware/scanner use it for their
// Open functions and otherwise work on any io.ReadWriteCloser.
package serialport
