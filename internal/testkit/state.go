package testkit

import (
	"testing"
	"time"
)

// EventuallyState is Eventually for conditions worth describing when they
// fail: cond returns whether it holds and what it saw, and the failure
// names the last thing seen ("kiosk synced: not within 1m; last seen:
// unsynced 3").
func EventuallyState(tb testing.TB, wait time.Duration, what string, cond func() (bool, string)) {
	tb.Helper()
	deadline := time.Now().Add(wait)
	pause := time.Millisecond
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %s; last seen: %s", what, wait, state)
			return
		}
		time.Sleep(pause) // polling with a deadline, not synchronising
		pause = min(2*pause, 50*time.Millisecond)
	}
}
