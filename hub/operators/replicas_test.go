package operators

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/pgtest"
)

// replicaNow is the replicas' clock: two hubs, one time.
var replicaNow = time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)

// twoHubs opens two stores on one new PostgreSQL database, as two hub
// processes behind a load balancer would, each with its own clock.
func twoHubs(t *testing.T) (a, b *Store, ca, cb *clock.Fake) {
	t.Helper()
	dsn := pgtest.Database(t)
	ca, cb = clock.NewFake(replicaNow), clock.NewFake(replicaNow)
	return openAt(t, dsn, ca), openAt(t, dsn, cb), ca, cb
}

// A session one hub starts is found by the other, and ended there ends
// it on both; so with API tokens, whose use the other hub records.
func TestReplicasShareSessionsAndTokens(t *testing.T) {
	t.Parallel()
	a, b, _, cb := twoHubs(t)
	ctx := t.Context()
	if err := a.AddUser(ctx, "li", "a long password", false); err != nil {
		t.Fatal(err)
	}
	u, err := b.Authenticate(ctx, "li", "a long password")
	if err != nil {
		t.Fatalf("Authenticate on hub B of a user added on hub A = %v", err)
	}
	cookie, sess, err := a.StartSession(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Session(ctx, cookie); err != nil || got.User.Name != "li" || got.CSRF != sess.CSRF {
		t.Fatalf("Session on hub B of hub A's cookie = %+v, %v; want li's session with its CSRF token", got, err)
	}
	if err := b.EndSession(ctx, cookie); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Session(ctx, cookie); !errors.Is(err, ErrNoSession) {
		t.Errorf("Session on hub A after signing out on hub B = %v, want ErrNoSession", err)
	}
	cookie, _, _ = b.StartSession(ctx, u)
	if err := a.SetDisabled(ctx, "li", true); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Session(ctx, cookie); !errors.Is(err, ErrNoSession) {
		t.Errorf("Session on hub B of a user disabled on hub A = %v, want ErrNoSession", err)
	}
	if err := a.SetDisabled(ctx, "li", false); err != nil {
		t.Fatal(err)
	}

	token, err := a.AddToken(ctx, "nightly", "li")
	if err != nil {
		t.Fatal(err)
	}
	cb.Advance(time.Hour) // hub B uses it an hour later
	if _, label, err := b.TokenSession(ctx, token); err != nil || label != "nightly" {
		t.Fatalf("TokenSession on hub B of hub A's token = %q, %v", label, err)
	}
	toks, err := a.Tokens(ctx)
	if err != nil || len(toks) != 1 || !toks[0].LastUsed.Equal(replicaNow.Add(time.Hour)) {
		t.Fatalf("Tokens on hub A = %+v, %v; want nightly last used at hub B's %v", toks, err, replicaNow.Add(time.Hour))
	}
	if _, err := b.AddToken(ctx, "nightly", "li"); err == nil {
		t.Error("AddToken on hub B of a label hub A holds succeeded")
	}
	if err := b.RevokeToken(ctx, "nightly"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.TokenSession(ctx, token); !errors.Is(err, ErrNoToken) {
		t.Errorf("TokenSession on hub A of a token revoked on hub B = %v, want ErrNoToken", err)
	}
}

// Failed sign-ins counted on one hub are counted on the other, and of
// hubs asking at one moment whether a slowed name may be tried, one is
// told yes.
func TestReplicasShareTheSignInLockout(t *testing.T) {
	t.Parallel()
	a, b, ca, cb := twoHubs(t)
	ctx := t.Context()
	for range 3 {
		if err := a.FailSignIn(ctx, replicaNow.Add(-time.Hour), "ip:203.0.113.9", "user:admin"); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.FailSignIn(ctx, replicaNow.Add(-time.Hour), "ip:203.0.113.9", "user:admin"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Store{a, b} {
		if n, err := s.SignInFailures(ctx, "ip:203.0.113.9", replicaNow.Add(-time.Minute)); err != nil || n != 4 {
			t.Errorf("SignInFailures(ip) = %d, %v; want the 4 of both hubs", n, err)
		}
	}
	if err := b.ClearSignInFailures(ctx, "ip:203.0.113.9"); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.SignInFailures(ctx, "ip:203.0.113.9", replicaNow.Add(-time.Minute)); n != 0 {
		t.Errorf("SignInFailures(ip) on hub A after hub B cleared them = %d, want 0", n)
	}
	if n, _ := a.SignInFailures(ctx, "user:admin", replicaNow.Add(-time.Minute)); n != 4 {
		t.Errorf("SignInFailures(user) after clearing only the address = %d, want 4", n)
	}

	const tries = 8
	allowed := make([]bool, tries)
	var wg sync.WaitGroup
	for i := range tries {
		s := []*Store{a, b}[i%2]
		wg.Go(func() {
			ok, err := s.SlowedTry(ctx, "admin", 30*time.Second)
			if err != nil {
				t.Error(err)
			}
			allowed[i] = ok
		})
	}
	wg.Wait()
	if n := count(allowed); n != 1 {
		t.Errorf("%d tries at once on two hubs checked %d, want 1", tries, n)
	}
	ca.Advance(29 * time.Second)
	if ok, _ := a.SlowedTry(ctx, "admin", 30*time.Second); ok {
		t.Error("a second checked try 29 s later was allowed")
	}
	cb.Advance(30 * time.Second)
	if ok, _ := b.SlowedTry(ctx, "admin", 30*time.Second); !ok {
		t.Error("a try 30 s later was refused")
	}
}

func count(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// Two hubs raising one alert at once raise it once: one is told it is
// new, and the other that it was there.
func TestReplicasRaiseAnAlertOnce(t *testing.T) {
	t.Parallel()
	a, b, _, _ := twoHubs(t)
	ctx := t.Context()
	for round := range 5 {
		const n = 8
		isNew := make([]bool, n)
		var wg sync.WaitGroup
		for i := range n {
			s := []*Store{a, b}[i%2]
			wg.Go(func() {
				var err error
				isNew[i], err = s.Raise(ctx, Alert{Key: fmt.Sprintf("entry:gate-1:%d", round), Kind: "fever", Site: "huamu-1", Kiosk: "gate-1"})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if c := count(isNew); c != 1 {
			t.Errorf("round %d: %d raises at once on two hubs reported %d new, want 1", round, n, c)
		}
	}
	list, err := b.Alerts(ctx, 100)
	if err != nil || len(list) != 5 {
		t.Fatalf("Alerts = %d, %v; want 5", len(list), err)
	}
	// Two operators acknowledging one alert at once on two hubs: one
	// takes it, the other is told it is no longer open.
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, s := range []*Store{a, b} {
		wg.Go(func() { errs[i] = s.Move(ctx, list[0].ID, StateAcked, fmt.Sprint("op-", i), "on my way") })
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || !(errors.Is(errs[0], ErrNoAlert) || errors.Is(errs[1], ErrNoAlert)) {
		t.Errorf("Move to acked at once on two hubs = %v, %v; want one nil and one ErrNoAlert", errs[0], errs[1])
	}
}

// The audit log keeps the order lines were written in, on both engines
// and from two hubs, though their clocks stamp them all alike.
func TestAuditKeepsItsOrder(t *testing.T) {
	onEngines(t, func(t *testing.T, e testEngine) {
		dsn := e.dsn(t)
		c := clock.NewFake(replicaNow)
		a, b := openAt(t, dsn, c), openAt(t, dsn, c)
		ctx := t.Context()
		const n = 40
		for i := range n {
			s := []*Store{a, b}[i%3%2]
			if err := s.Audit(ctx, "li", "reveal", fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range []*Store{a, b} {
			log, err := s.AuditLog(ctx, n)
			if err != nil || len(log) != n {
				t.Fatalf("AuditLog = %d lines, %v; want %d", len(log), err, n)
			}
			for i, r := range log {
				if want := fmt.Sprint(n - 1 - i); r.Detail != want || !r.At.Equal(replicaNow) {
					t.Fatalf("AuditLog[%d] = %+v; want line %s, newest first", i, r, want)
				}
			}
		}
	})
}

// TestChangesWarnedAboutAreNotReportedDone: on a primary whose commits
// wait for a synchronous standby that is down, a change whose wait is
// cancelled at the server (pg_cancel_backend; a statement_timeout does the
// same) succeeds at PostgreSQL with a WARNING, kept on the primary but
// maybe not on the standby. The console's store reports it as an error
// wrapping sqlstore.ErrUnreplicated, for a single statement (an alert
// raised) and for a transaction (a user disabled) alike, so that nothing
// is acted on as safe.
func TestChangesWarnedAboutAreNotReportedDone(t *testing.T) {
	t.Parallel()
	primary := pgtest.Own(t)
	standby := primary.Standby(t)
	s := openAt(t, primary.URL, clock.NewFake(replicaNow))
	ctx := t.Context()
	if err := s.AddUser(ctx, "li", "a long password", false); err != nil {
		t.Fatal(err)
	}
	standby.Crash(t)

	changes := []struct {
		name   string
		change func() error
	}{
		{"Raise (one statement)", func() error {
			isNew, err := s.Raise(ctx, Alert{Key: "entry:gate-1:7", Kind: "fever", Site: "site-1", Kiosk: "gate-1", Detail: "38.2"})
			if !isNew {
				// The follower tells the live view of a new alert only
				// when Raise says so, and its retry finds it held.
				t.Errorf("Raise of a new alert kept on the primary said it was not new (%v)", err)
			}
			return err
		}},
		{"SetDisabled (a transaction)", func() error { return s.SetDisabled(ctx, "li", true) }},
	}
	for _, c := range changes {
		done := make(chan error, 1)
		before := primary.SyncRepWaiters(t)
		go func() { done <- c.change() }()
		primary.CancelBackend(t, primary.WaitForSyncRep(t, before, done))
		select {
		case err := <-done:
			if !errors.Is(err, sqlstore.ErrUnreplicated) {
				t.Errorf("%s, its wait for the standby cancelled: %v; want an error wrapping ErrUnreplicated", c.name, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: no answer within 30s of the cancel", c.name)
		}
	}
	// Both are kept on the primary.
	if u, err := s.User(ctx, "li"); err != nil || !u.Disabled {
		t.Errorf("User = %+v, %v; want li disabled: PostgreSQL kept the change", u, err)
	}
}
