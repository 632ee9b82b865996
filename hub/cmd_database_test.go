package main

import (
	"bytes"
	"crypto/ed25519"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/internal/doctor"
	"github.com/gatepost/gatepost/internal/pgtest"
	"github.com/gatepost/gatepost/protocol"
	_ "github.com/jackc/pgx/v5/stdlib"
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

	// A command that reads entries makes nothing: before any hub stored
	// there, it says so.
	if _, err := hubRun(t, "entries", "--data", dir); err == nil || !strings.Contains(err.Error(), "no hub data in the PostgreSQL database") {
		t.Fatalf("hub entries before any hub stored in PostgreSQL = %v, want a sentence saying there is no hub data there", err)
	}

	if _, err := hubRun(t, "kiosks", "list", "--data", dir, "--database", dir+"/hub.db"); err == nil ||
		!strings.Contains(err.Error(), "PostgreSQL URL") || !strings.Contains(err.Error(), "--data") {
		t.Fatalf("--database with a file path = %v, want a sentence saying it takes a PostgreSQL URL", err)
	}
}

// hub doctor --database reads each store's version from its schema in
// PostgreSQL, without making anything: current after the stores were
// opened, FAIL naming the schema when a newer hub migrated one further.
// hub backup says the database is not in its file.
func TestDoctorAndBackupWithDatabase(t *testing.T) {
	db := pgtest.Database(t)
	dir := t.TempDir()
	r, _ := hubDoctorRun(t, "--data", dir, "--database", db)
	if l, _ := r.Find("schema"); l.Status != doctor.OK || strings.Contains(l.Found, "schema records") {
		t.Fatalf("doctor on an empty database: schema %+v, want OK with nothing found yet", l)
	}
	if l, _ := r.Find("storage"); l.Status != doctor.Fail || !strings.Contains(l.Found, "no hub data in the PostgreSQL database") {
		t.Fatalf("doctor on an empty database: storage %+v, want FAIL saying no hub stored there yet", l)
	}
	mustRun(t, "users", "add", "wang", "--admin", "--data", dir, "--database", db)
	mustRun(t, "keys", "init", "--data", dir, "--database", db)
	mustRun(t, "kiosks", "list", "--data", dir, "--database", db)
	mustRun(t, "purge", "--data", dir, "--database", db, "--dry-run")
	r, _ = hubDoctorRun(t, "--data", dir, "--database", db)
	l, _ := r.Find("schema")
	for _, s := range []string{"schema records", "schema operators", "schema registry", "schema passes"} {
		if l.Status != doctor.OK || !strings.Contains(l.Found, s) {
			t.Errorf("doctor schema line %+v, want OK naming %s", l, s)
		}
	}

	conn, err := sql.Open("pgx", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), `INSERT INTO operators.goose_db_version (version_id, is_applied) VALUES (99, true)`); err != nil {
		t.Fatal(err)
	}
	r, _ = hubDoctorRun(t, "--data", dir, "--database", db)
	if l, _ := r.Find("schema"); l.Status != doctor.Fail || !strings.Contains(l.Found, "schema operators") || !strings.Contains(l.Found, "99") {
		t.Errorf("doctor after a newer hub migrated operators: %+v, want FAIL naming the schema and 99", l)
	}

	var out bytes.Buffer
	if err := run(t, t.Context(), &out, "backup", "--data", dir, "--database", db, "--out", filepath.Join(t.TempDir(), "b")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "not in this file") || !strings.Contains(out.String(), "pg_dump") {
		t.Errorf("hub backup with --database said %q, want it to say the database is not in the file", out.String())
	}
}

// Commands that hand a kiosk the downlink key or the CA's pin check them
// against those the hubs on the database use: `hub kiosks add` from a
// data folder with a downlink key of its own, and `hub kiosks enroll`
// from one with another CA, are refused, naming the file to copy.
func TestCommandsRefuseSecretsNotShared(t *testing.T) {
	db := pgtest.Database(t)
	first, other := t.TempDir(), t.TempDir()
	mustRun(t, "tls", "init", "--data", first, "--name", "hub.huamu.local")
	pub, _, _ := ed25519.GenerateKey(nil)
	mustRun(t, "kiosks", "add", "--data", first, "--database", db, "--site", "huamu-1", "--kiosk", "gate-5",
		"--public-key", protocol.PublicKeyText(pub), "--out", first+"/gate-5.enroll")
	mustRun(t, "tls", "init", "--data", other, "--name", "hub.huamu.local") // another CA, and soon another downlink key
	pub2, _, _ := ed25519.GenerateKey(nil)
	_, err := hubRun(t, "kiosks", "add", "--data", other, "--database", db, "--site", "huamu-1", "--kiosk", "gate-6",
		"--public-key", protocol.PublicKeyText(pub2), "--out", other+"/gate-6.enroll")
	if err == nil || !strings.Contains(err.Error(), "copy downlink.key from a running hub") {
		t.Fatalf("kiosks add from a folder with its own downlink key = %v, want a refusal naming downlink.key", err)
	}
	if _, err := os.Stat(other + "/gate-6.enroll"); !os.IsNotExist(err) {
		t.Errorf("the refused add wrote its enrollment file (%v)", err)
	}
	_, err = hubRun(t, "kiosks", "enroll", "--data", other, "--database", db, "--site", "huamu-1", "--kiosk", "gate-7")
	if err == nil || !strings.Contains(err.Error(), "TLS CA (tls/ca.crt in") {
		t.Fatalf("kiosks enroll from a folder with another CA = %v, want a refusal naming the CA", err)
	}
	if out := mustRun(t, "kiosks", "enroll", "--data", first, "--database", db, "--site", "huamu-1", "--kiosk", "gate-7"); !strings.Contains(out, "GPE1:") {
		t.Errorf("kiosks enroll from the first folder = %s, want a code", out)
	}
}
