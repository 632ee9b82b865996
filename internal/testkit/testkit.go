// Package testkit is the one test kit of gatepost's tests: waiting for a
// condition with a deadline (never for a fixed time), an MQTT broker on a
// listener the test owns, the stand-in hub that acks a kiosk's batches
// (StartHub), loopback listeners that no other test can take between
// "pick a port" and "bind it", and the string literals of the code under
// test (StringsInCode, for holding catalogue keys to the catalogues).
//
// Only tests import testkit (the import-graph test holds it); it imports
// only protocol of ours.
package testkit

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Wait is how long Eventually waits by default: long enough for a loaded
// 2-core CI machine running -race, short enough that a hang fails fast.
const Wait = 15 * time.Second

// Eventually polls cond until it holds, failing the test with what if it
// does not within Wait. Use it for conditions another goroutine or
// process makes true; never sleep a fixed time instead.
func Eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	EventuallyWithin(tb, Wait, what, cond)
}

// EventuallyWithin is Eventually with its own deadline.
func EventuallyWithin(tb testing.TB, wait time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(wait)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %v", what, wait)
			return
		}
		time.Sleep(pause) // polling with a deadline, not synchronising
		pause = min(2*pause, 25*time.Millisecond)
	}
}

// EventuallyNoError polls f until it returns nil, failing with its last
// error after Wait.
func EventuallyNoError(tb testing.TB, what string, f func() error) {
	tb.Helper()
	var last error
	deadline := time.Now().Add(Wait)
	for {
		if last = f(); last == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %v: %v", what, Wait, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Listen opens a TCP listener on a free loopback port. The test owns it
// from the start, so no other test can take the port; it is closed when
// the test ends.
func Listen(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen on loopback: %v", err)
	}
	tb.Cleanup(func() { ln.Close() })
	return ln
}

// URL is the tcp:// URL an MQTT client dials for ln.
func URL(ln net.Listener) string { return fmt.Sprintf("tcp://%s", ln.Addr()) }

// FreeAddr returns a loopback address nothing listens on, for a program
// (a child process, a broker restarted on the same address) that must
// bind the address itself. The port is released before the caller binds
// it, so it is taken on 127.0.0.2: listeners that ask for any free port
// on 127.0.0.1 cannot take it meanwhile. Prefer Listen where the code
// under test accepts a listener.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	handed.mu.Lock()
	defer handed.mu.Unlock()
	// The port is drawn at random below the kernel's ephemeral range, not
	// asked of the kernel: it gives a closed port out again at once (a
	// hub's console and its TLS broker got the same one, and the hub could
	// not start), and, asked again past ports held, walks on from the same
	// place, so that once thousands were handed out (go test -count=5) a
	// hundred tries found none new.
	for range 1000 {
		addr := net.JoinHostPort("127.0.0.2", strconv.Itoa(freeFrom+rand.IntN(freeTo-freeFrom)))
		if handed.addrs[addr] {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue // in use
		}
		ln.Close()
		handed.addrs[addr] = true
		return addr
	}
	tb.Fatal("FreeAddr: no free address not handed out already in 1000 tries")
	return ""
}

// freeFrom and freeTo bound FreeAddr's ports: below Linux's ephemeral
// range (32768 up), which outgoing connections take.
const freeFrom, freeTo = 10000, 32768

// handed is every address FreeAddr gave out in this process.
var handed = struct {
	mu    sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}
