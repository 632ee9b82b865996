package main

import (
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/internal/pgtest"
	"github.com/gatepost/gatepost/protocol"
)

// --database puts the hub's state in PostgreSQL: a kiosk, a user and a
// pass added by one command are listed by another and by nothing that
// reads the data folder's files; $GATEPOST_DATABASE does the same; a
// file path is refused, pointing at --data.
func TestDatabaseFlag(t *testing.T) {
	db := pgtest.Database(t)
	dir := t.TempDir()
	mustRun(t, "tls", "init", "--data", dir, "--name", "hub.huamu.local")
	pub, _, _ := ed25519.GenerateKey(nil)
	mustRun(t, "kiosks", "add", "--data", dir, "--database", db, "--site", "huamu-1", "--kiosk", "gate-5",
		"--public-key", protocol.PublicKeyText(pub), "--out", dir+"/gate-5.enroll")
	var list registryList
	if err := json.Unmarshal([]byte(mustRun(t, "kiosks", "list", "--data", dir, "--database", db, "--json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Kiosks) != 1 || list.Kiosks[0].Kiosk != "gate-5" || list.Kiosks[0].State != string(registry.Enrolled) {
		t.Fatalf("kiosks list on PostgreSQL = %+v, want gate-5 enrolled", list.Kiosks)
	}
	// The file in the data folder holds none of it.
	if out := mustRun(t, "kiosks", "list", "--data", dir, "--json"); strings.Contains(out, "gate-5") {
		t.Fatalf("kiosks.db in the data folder lists %s; the kiosk went to PostgreSQL", out)
	}

	// The console's users too.
	mustRun(t, "users", "add", "wang", "--admin", "--data", dir, "--database", db)
	if out := mustRun(t, "users", "list", "--data", dir, "--database", db); !strings.Contains(out, "wang") {
		t.Fatalf("users list on PostgreSQL = %s, want wang", out)
	}
	if out := mustRun(t, "users", "list", "--data", dir); strings.Contains(out, "wang") {
		t.Fatalf("console.db in the data folder lists %s; the user went to PostgreSQL", out)
	}

	// The passes too; their private key stays in the data folder.
	mustRun(t, "keys", "init", "--data", dir, "--database", db)
	mustRun(t, "passes", "issue", "--data", dir, "--database", db, "--site", "huamu-1", "--unit", "3-502", "--name", "王小明",
		"--until", "2099-12-31")
	if out := mustRun(t, "passes", "list", "--data", dir, "--database", db); !strings.Contains(out, "3-502") {
		t.Fatalf("passes list on PostgreSQL = %s, want the pass of 3-502", out)
	}
	if out := mustRun(t, "passes", "list", "--data", dir); strings.Contains(out, "3-502") {
		t.Fatalf("passes.db in the data folder lists %s; the pass went to PostgreSQL", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys")); err != nil {
		t.Fatalf("the signing key is not in the data folder's keys/: %v", err)
	}

	t.Setenv(datadir.DatabaseEnv, db)
	if out := mustRun(t, "kiosks", "list", "--data", dir, "--json"); !strings.Contains(out, "gate-5") {
		t.Fatalf("with $%s set, kiosks list = %s, want gate-5 from PostgreSQL", datadir.DatabaseEnv, out)
	}

	if out := mustRun(t, "entries", "--data", dir, "--json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("hub entries on an empty PostgreSQL = %q, want []", out)
	}

	if _, err := hubRun(t, "kiosks", "list", "--data", dir, "--database", dir+"/hub.db"); err == nil ||
		!strings.Contains(err.Error(), "PostgreSQL URL") || !strings.Contains(err.Error(), "--data") {
		t.Fatalf("--database with a file path = %v, want a sentence saying it takes a PostgreSQL URL", err)
	}
}
