// Package pgtest gives a test its own empty PostgreSQL database on the
// test server that ./test.sh starts (.ci/postgres) and names in
// GATEPOST_TEST_POSTGRES. Without a server a test skips on a developer's
// machine, saying how to get one, and fails under CI, where every test
// must run.
//
// Own starts a server of one test's own instead, for a test that restarts
// it (the replica fault suite in e2e).
//
// Tests of the hub's stores and e2e's replica faults import it; nothing
// else does.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
)

// Env is the variable that holds the test server's URL: a database on it
// (usually "postgres") that a superuser can log in to.
const Env = "GATEPOST_TEST_POSTGRES"

// Server returns the test server's URL, skipping or failing tb when there
// is none.
func Server(tb testing.TB) string {
	tb.Helper()
	u, missing := server(os.Getenv)
	if missing != "" {
		if os.Getenv("CI") != "" {
			tb.Fatal(missing + ", and CI must run every test")
		} else {
			tb.Skip(missing)
		}
	}
	return u
}

// server reads the server's URL from getenv, or says why there is none
// and how to get one.
func server(getenv func(string) string) (u, missing string) {
	u = getenv(Env)
	if u == "" {
		return "", "no PostgreSQL for the tests: run ./test.sh, which starts one, or start one with " +
			"`.ci/postgres start /tmp/pg` and set " + Env + " to the URL it prints"
	}
	if _, err := pgx.ParseConfig(u); err != nil {
		return "", fmt.Sprintf("%s is not a PostgreSQL URL (%v): set it to what `.ci/postgres start` prints", Env, err)
	}
	return u, ""
}

// Database makes an empty database on the test server for tb alone and
// returns its URL. The database is dropped when tb ends, with any
// connection still open to it.
func Database(tb testing.TB) string {
	tb.Helper()
	admin := Server(tb)
	name := dbName(tb.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Fatalf("connect to the test PostgreSQL (%s): %v", Env, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		tb.Fatalf("create test database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := withDatabase(admin, name)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// withDatabase is the URL of database name on the server of u.
func withDatabase(u, name string) (string, error) {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "postgres" && p.Scheme != "postgresql") {
		return "", fmt.Errorf("%s must be a postgres:// URL, not %q", Env, u)
	}
	p.Path = "/" + name
	p.RawPath = ""
	return p.String(), nil
}

// dbName is a fresh database name that says which test made it: the
// test's name, lower case, letters and digits only, and a random tail.
func dbName(test string) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 40 {
			break
		}
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	tail := make([]byte, 6)
	rand.Read(tail)
	return b.String() + "_" + hex.EncodeToString(tail)
}
