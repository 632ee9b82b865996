package operators

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/pgtest"
)

// testEngine is where a test's store lives: a new SQLite file, or a new
// database on the test PostgreSQL (internal/pgtest; skipped locally
// without one, failed in CI).
type testEngine struct {
	name string
	dsn  func(t *testing.T) string // a new, empty store's name for Open
}

// engines are the store's two engines.
func engines() []testEngine {
	return []testEngine{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), FileName) }},
		{"postgres", func(t *testing.T) string { return pgtest.Database(t) }},
	}
}

// onEngines runs test on each engine, in parallel.
func onEngines(t *testing.T, test func(t *testing.T, e testEngine)) {
	t.Helper()
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			test(t, e)
		})
	}
}

// open opens a new, empty store on e, closed when t ends.
func (e testEngine) open(t *testing.T, c clock.Clock) *Store {
	t.Helper()
	return openAt(t, e.dsn(t), c)
}

// openAt opens the store dsn names, closed when t ends.
func openAt(t *testing.T, dsn string, c clock.Clock) *Store {
	t.Helper()
	s, err := OpenContext(t.Context(), dsn, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash = %q, want an argon2id PHC string", h)
	}
	if !CheckPassword(h, "correct horse battery") || CheckPassword(h, "correct horse batterz") {
		t.Errorf("CheckPassword does not tell the right password from a wrong one")
	}
	for _, bad := range []string{"", "$argon2id$", "$bcrypt$x$y$z$w", strings.Replace(h, "m=19456", "m=99999999", 1)} {
		if CheckPassword(bad, "correct horse battery") {
			t.Errorf("CheckPassword(%q) = true", bad)
		}
	}
}

func TestUsersAndSessions(t *testing.T) {
	onEngines(t, func(t *testing.T, e testEngine) {
		clk := clock.NewFake(time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC))
		s := e.open(t, clk)
		ctx := t.Context()
		if err := s.AddUser(ctx, "wang", "short", false); err == nil {
			t.Errorf("AddUser with a short password succeeded")
		}
		if err := s.AddUser(ctx, "bad name", "long enough pw", false); err == nil {
			t.Errorf("AddUser with a space in the name succeeded")
		}
		if err := s.AddUser(ctx, "wang", "long enough pw", true); err != nil {
			t.Fatal(err)
		}
		if err := s.AddUser(ctx, "wang", "long enough pw", true); !errors.Is(err, ErrUserExists) {
			t.Errorf("AddUser twice = %v, want ErrUserExists", err)
		}
		if _, err := s.Authenticate(ctx, "wang", "wrong password"); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("Authenticate with a wrong password = %v", err)
		}
		if _, err := s.Authenticate(ctx, "nobody", "long enough pw"); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("Authenticate a missing user = %v", err)
		}
		u, err := s.Authenticate(ctx, "wang", "long enough pw")
		if err != nil || !u.Admin {
			t.Fatalf("Authenticate = %+v, %v", u, err)
		}
		token, sess, err := s.StartSession(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Session(ctx, token)
		if err != nil || got.User.Name != "wang" || got.CSRF != sess.CSRF || len(got.CSRF) != 64 {
			t.Errorf("Session = %+v, %v", got, err)
		}
		if _, err := s.Session(ctx, "forged"); !errors.Is(err, ErrNoSession) {
			t.Errorf("Session(forged) = %v", err)
		}
		clk.Advance(SessionLife + time.Second)
		if _, err := s.Session(ctx, token); !errors.Is(err, ErrNoSession) {
			t.Errorf("expired Session = %v", err)
		}
		token, _, _ = s.StartSession(ctx, u)
		if err := s.SetDisabled(ctx, "wang", true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, token); !errors.Is(err, ErrNoSession) {
			t.Errorf("Session of a disabled user = %v", err)
		}
		if _, err := s.Authenticate(ctx, "wang", "long enough pw"); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("Authenticate a disabled user = %v", err)
		}
		if err := s.SetPassword(ctx, "nobody", "long enough pw"); !errors.Is(err, ErrNoUser) {
			t.Errorf("SetPassword(nobody) = %v", err)
		}
	})
}

func TestAlertLife(t *testing.T) {
	onEngines(t, func(t *testing.T, e testEngine) {
		s := e.open(t, nil)
		ctx := t.Context()
		for range 2 {
			if _, err := s.Raise(ctx, Alert{Key: "entry:gate-1:2", Kind: "fever", Site: "huamu-1", Kiosk: "gate-1"}); err != nil {
				t.Fatal(err)
			}
		}
		open, err := s.Alerts(ctx, 10, StateOpen)
		if err != nil || len(open) != 1 {
			t.Fatalf("open alerts = %v, %v; want one (raised twice, same key)", open, err)
		}
		id := open[0].ID
		if err := s.Move(ctx, id, StateClosed, "wang", " "); err == nil {
			t.Errorf("closing without a note succeeded")
		}
		if err := s.Move(ctx, id, StateAcked, "wang", "on my way"); err != nil {
			t.Fatal(err)
		}
		if err := s.Move(ctx, id, StateAcked, "li", "again"); !errors.Is(err, ErrNoAlert) {
			t.Errorf("acking an acked alert = %v, want ErrNoAlert", err)
		}
		if err := s.Move(ctx, id, StateClosed, "wang", "re-measured 36.6 with a clinical thermometer"); err != nil {
			t.Fatal(err)
		}
		a, err := s.Alert(ctx, id)
		if err != nil || a.State != StateClosed || a.By != "wang" || !strings.Contains(a.Note, "36.6") {
			t.Errorf("Alert = %+v, %v", a, err)
		}
	})
}
