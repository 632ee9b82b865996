package scanner

import (
	"testing"
	"time"
)

// waitUntil checks cond every millisecond until it holds, and fails the
// test if it does not within 5 s. hardware may not import internal/testkit,
// so this is the scanner tests' own Eventually.
func waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			tb.Fatalf("waited 5s until %s", what)
		case <-tick.C:
		}
	}
}

// WaitUntil is waitUntil for the tests in package scanner_test.
var WaitUntil = waitUntil
