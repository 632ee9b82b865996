package main

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/internal/pgtest"
	"github.com/gatepost/gatepost/protocol"
)

// A hub on SQLite moves into PostgreSQL with `hub copy-to-postgres`:
// what the commands wrote to the data folder is what they read back with
// --database; a second copy is refused, and so is --database as the
// source.
func TestCopyToPostgresCommand(t *testing.T) {
	db := pgtest.Database(t)
	dir := t.TempDir()
	pub, _, _ := ed25519.GenerateKey(nil)
	mustRun(t, "kiosks", "add", "--data", dir, "--site", "huamu-1", "--kiosk", "gate-5",
		"--public-key", protocol.PublicKeyText(pub), "--out", dir+"/gate-5.enroll")
	mustRun(t, "users", "add", "wang", "--admin", "--data", dir)
	mustRun(t, "keys", "init", "--data", dir)
	mustRun(t, "passes", "issue", "--data", dir, "--site", "huamu-1", "--unit", "3-502", "--name", "王小明", "--until", "2099-12-31")

	out := mustRun(t, "copy-to-postgres", "--data", dir, db)
	if !strings.Contains(out, "copied registry.enrolled_kiosks: 1 rows") || !strings.Contains(out, "copied operators.users: 1 rows") ||
		!strings.Contains(out, "copied passes.passes: 1 rows") {
		t.Errorf("copy-to-postgres printed:\n%s", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"kiosks", "list"}, "gate-5"},
		{[]string{"users", "list"}, "wang"},
		{[]string{"passes", "list"}, "3-502"},
	} {
		if got := mustRun(t, append(c.args, "--data", dir, "--database", db)...); !strings.Contains(got, c.want) {
			t.Errorf("%v --database after the copy = %s, want %s", c.args, got, c.want)
		}
	}
	if _, err := hubRun(t, "copy-to-postgres", "--data", dir, db); err == nil || !strings.Contains(err.Error(), "holds hub data already") {
		t.Errorf("a second copy = %v, want a refusal", err)
	}
	if _, err := hubRun(t, "copy-to-postgres", "--data", dir, "--database", db, db); err == nil ||
		!strings.Contains(err.Error(), "leave out --database") {
		t.Errorf("copy-to-postgres --database = %v, want a refusal", err)
	}
}
