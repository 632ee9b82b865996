// Package simtest starts gatepost's device simulators (hardware/sim) for
// a test: each on its pseudo-terminal, closed when the test ends, and
// plugged in under a stable name as udev would. It is sim's constructors
// with the test's failure and cleanup, kept apart from sim so that the
// programs that simulate devices (kiosk simulate = true, the demo) do not
// link the testing package.
//
// Only tests import simtest (hardware/device's, the kiosk's); it imports
// only hardware/sim of ours.
package simtest

import (
	"io"
	"os"
	"testing"

	"github.com/gatepost/gatepost/hardware/sim"
)

// Thermometer starts a simulated thermometer, closed when the test ends.
func Thermometer(tb testing.TB, o sim.ThermometerOptions) *sim.Thermometer {
	tb.Helper()
	s, err := sim.NewThermometer(o)
	return closedAtEnd(tb, s, err)
}

// Scanner starts a simulated code scanner, closed when the test ends.
func Scanner(tb testing.TB, o sim.ScannerOptions) *sim.Scanner {
	tb.Helper()
	s, err := sim.NewScanner(o)
	return closedAtEnd(tb, s, err)
}

// closedAtEnd is a simulator that started, or the test failed with why
// it did not, closed when the test ends.
func closedAtEnd[S io.Closer](tb testing.TB, s S, err error) S {
	tb.Helper()
	if err != nil {
		tb.Fatalf("start a simulator: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Plug points the stable name at a simulator's terminal (its Path), as
// udev points /dev/serial/by-id/... at whichever ttyUSB a device gets;
// plugging another simulator in under the same name replaces the link.
func Plug(tb testing.TB, name, path string) {
	tb.Helper()
	os.Remove(name)
	if err := os.Symlink(path, name); err != nil {
		tb.Fatal(err)
	}
}
