package console

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/pgtest"
)

// signInFrom posts the sign-in form straight to the console from addr
// (the loopback server cannot vary the client's address), with device
// as the gp_device cookie when not "". It returns the status and the
// device cookie the answer sets, if any.
func signInFrom(tb testing.TB, env *opsEnv, addr, device, user, password string) (int, string) {
	tb.Helper()
	form := url.Values{"csrf": {"pre-session-token"}, "user": {user}, "password": {password}}
	r := httptest.NewRequest(http.MethodPost, "/ops/signin", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = addr + ":40000"
	r.AddCookie(&http.Cookie{Name: preCSRFCookie, Value: "pre-session-token"})
	if device != "" {
		r.AddCookie(&http.Cookie{Name: deviceCookie, Value: device})
	}
	w := httptest.NewRecorder()
	env.c.ServeHTTP(w, r)
	set := ""
	for _, c := range w.Result().Cookies() {
		if c.Name == deviceCookie && c.MaxAge > 0 {
			set = c.Value
		}
	}
	return w.Code, set
}

// A stranger typing wrong passwords for "admin" locks out their own
// address, never the admin: not from another address, not from a
// browser the admin signed in with before.
func TestLockoutSparesTheAdmin(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	code, device := signInFrom(t, env, "10.0.0.2", "", "admin", adminPW)
	if code != http.StatusSeeOther || device == "" {
		t.Fatalf("first sign-in = %d, device cookie %q; want 303 and a device cookie", code, device)
	}
	limited := 0
	for range 100 {
		code, _ := signInFrom(t, env, "203.0.113.9", "", "admin", "guess guess guess")
		if code == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 100-maxFailures {
		t.Errorf("stranger's tries refused unchecked = %d, want %d", limited, 100-maxFailures)
	}
	if code, _ := signInFrom(t, env, "203.0.113.9", "", "admin", adminPW); code != http.StatusTooManyRequests {
		t.Errorf("right password from the stranger's address = %d, want 429 (the address is locked)", code)
	}
	if code, _ := signInFrom(t, env, "10.0.0.3", "", "admin", adminPW); code != http.StatusSeeOther {
		t.Errorf("admin from another address after 100 wrong tries = %d, want 303", code)
	}
	if code, _ := signInFrom(t, env, "203.0.113.9", device, "admin", adminPW); code != http.StatusSeeOther {
		t.Errorf("admin from a known device behind the stranger's address = %d, want 303", code)
	}
	// Another user's device cookie is no pass for "admin".
	_, opDevice := signInFrom(t, env, "10.0.0.4", "", "op", opPW)
	if code, _ := signInFrom(t, env, "203.0.113.9", opDevice, "admin", adminPW); code != http.StatusTooManyRequests {
		t.Errorf("admin with op's device cookie from the locked address = %d, want 429", code)
	}
}

// Many addresses guessing one name slow the name (one checked try per
// slowTry) but never shut it: the right password gets through at that
// rate, and at once from a known device.
func TestLockoutSlowsANameUnderADistributedGuess(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	_, device := signInFrom(t, env, "10.0.0.2", "", "admin", adminPW)
	for i := range nameFailures {
		addr := fmt.Sprintf("198.51.100.%d", i)
		if code, _ := signInFrom(t, env, addr, "", "admin", "guess guess guess"); code != http.StatusUnauthorized {
			t.Fatalf("guess %d = %d, want 401", i, code)
		}
	}
	// The name is slowed now: the next try is checked, the one after it
	// within slowTry is not.
	if code, _ := signInFrom(t, env, "198.51.100.200", "", "admin", "guess guess guess"); code != http.StatusUnauthorized {
		t.Errorf("first try of a slowed name = %d, want 401 (checked)", code)
	}
	if code, _ := signInFrom(t, env, "10.0.0.3", "", "admin", adminPW); code != http.StatusTooManyRequests {
		t.Errorf("right password within %s of the last try = %d, want 429", slowTry, code)
	}
	if code, _ := signInFrom(t, env, "10.0.0.3", device, "admin", adminPW); code != http.StatusSeeOther {
		t.Errorf("right password from a known device = %d, want 303", code)
	}
	// Signing in resets the name; guess again to slow it, then wait.
	for i := range nameFailures {
		signInFrom(t, env, fmt.Sprintf("192.0.2.%d", i), "", "admin", "guess guess guess")
	}
	signInFrom(t, env, "192.0.2.200", "", "admin", "guess guess guess")
	env.clock.Advance(slowTry + time.Second)
	if code, _ := signInFrom(t, env, "10.0.0.3", "", "admin", adminPW); code != http.StatusSeeOther {
		t.Errorf("right password %s after the last try = %d, want 303", slowTry, code)
	}
}

// Two hubs on one PostgreSQL database (replicas behind a load balancer)
// count the same failed sign-ins: a guesser spreading tries over both
// is locked out of both after maxFailures, and the admin, from another
// address, signs in on either.
func TestLockoutHoldsAcrossHubs(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Database(t)
	rec, err := records.Open(filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	clk := clock.NewFake(seedStart)
	var hubs []*opsEnv
	for range 2 {
		store, err := operators.OpenContext(t.Context(), dsn, clk)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		c, err := New(Config{Records: rec, Operators: store, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Stop)
		hubs = append(hubs, &opsEnv{c: c, store: store, clock: clk})
	}
	if err := hubs[0].store.AddUser(t.Context(), "admin", adminPW, true); err != nil {
		t.Fatal(err)
	}
	for i := range maxFailures {
		if code, _ := signInFrom(t, hubs[i%2], "203.0.113.9", "", "admin", "guess guess guess"); code != http.StatusUnauthorized {
			t.Fatalf("guess %d on hub %d = %d, want 401", i, i%2, code)
		}
	}
	for i, h := range hubs {
		if code, _ := signInFrom(t, h, "203.0.113.9", "", "admin", adminPW); code != http.StatusTooManyRequests {
			t.Errorf("right password from the guesser's address on hub %d = %d, want 429", i, code)
		}
		if code, _ := signInFrom(t, h, "10.0.0.3", "", "admin", adminPW); code != http.StatusSeeOther {
			t.Errorf("admin from another address on hub %d = %d, want 303", i, code)
		}
	}
}
