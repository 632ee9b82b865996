package pgtest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// recorder is a testing.TB that records Fatal and Skip instead of ending
// the test.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()           {}
func (r *recorder) Fatal(args ...any) { r.fatal = fmt.Sprint(args...) }
func (r *recorder) Skip(args ...any)  { r.skip = fmt.Sprint(args...) }

func TestWithoutAServerASkipLocallyAFailureInCI(t *testing.T) {
	t.Setenv(Env, "")
	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		if u := Server(r); u != "" {
			t.Fatalf("Server with no %s = %q", Env, u)
		}
		got, other := r.skip, r.fatal
		if ci != "" {
			got, other = r.fatal, r.skip
		}
		if !strings.Contains(got, "./test.sh") || !strings.Contains(got, Env) || other != "" {
			t.Errorf("CI=%q: skip %q, fatal %q; want the one that says how to get a server", ci, r.skip, r.fatal)
		}
	}
	t.Setenv(Env, "mysql://nope")
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	if Server(r); !strings.Contains(r.fatal, "not a PostgreSQL URL") {
		t.Errorf("Server with a bad URL: fatal %q, want it named", r.fatal)
	}
}

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://gatepost@/postgres?host=/tmp/pg", "postgres://gatepost@/t_1?host=/tmp/pg"},
		{"postgresql://u:p@127.0.0.1:5433/postgres?sslmode=disable", "postgresql://u:p@127.0.0.1:5433/t_1?sslmode=disable"},
	} {
		if got, err := withDatabase(tc.in, "t_1"); err != nil || got != tc.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := withDatabase("host=/tmp/pg dbname=postgres", "t_1"); err == nil {
		t.Error("withDatabase(a key=value string) = nil error; want one saying a URL is needed")
	}
}

func TestDBNameIsAValidFreshIdentifier(t *testing.T) {
	long := strings.Repeat("TestSomething/with spaces and-dashes", 5)
	a, b := dbName(long), dbName(long)
	if a == b {
		t.Fatalf("dbName twice = %q both times", a)
	}
	for _, n := range []string{a, b, dbName("T/é")} {
		if len(n) > 63 || strings.Trim(n, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" || n[0] != 't' {
			t.Errorf("dbName = %q: want at most 63 of [a-z0-9_], starting with a letter", n)
		}
	}
}

func TestDatabaseIsEmptyOwnAndDroppedAtTheEnd(t *testing.T) {
	ctx := context.Background()
	admin := Server(t)
	var first string
	t.Run("first", func(t *testing.T) {
		first = Database(t)
		conn := connect(t, first)
		if _, err := conn.Exec(ctx, "CREATE TABLE mine (n int); INSERT INTO mine VALUES (1)"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("second", func(t *testing.T) {
		second := Database(t)
		if second == first {
			t.Fatalf("two tests got one database %q", first)
		}
		var n int
		if err := connect(t, second).QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'mine'").Scan(&n); err != nil || n != 0 {
			t.Fatalf("the second database has the first's table: %d, %v", n, err)
		}
	})
	cfg, err := pgx.ParseConfig(first)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := connect(t, admin).QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", cfg.Database).Scan(&n); err != nil || n != 0 {
		t.Fatalf("database %s after its test ended: %d rows, %v; want dropped", cfg.Database, n, err)
	}
}

func connect(t *testing.T, u string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
