package main

import (
	"bytes"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// TestVerifyCommand: clean storage verifies and exits zero; after an
// entry is edited behind the hub's back, the command names it, in text
// and in JSON, and fails.
func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	seed(t, dir)
	var out bytes.Buffer
	if err := run(t, t.Context(), &out, "verify", "--data", dir); err != nil {
		t.Fatalf("hub verify of clean storage: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "2 kiosks, 4 entries") || !strings.Contains(out.String(), "all verified") {
		t.Errorf("hub verify printed %q", out.String())
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE entries SET body = json_set(body, '$.decision', 'deny'), decision = 'deny' WHERE kiosk = 'gate-1' AND seq = 2`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out.Reset()
	err = run(t, t.Context(), &out, "verify", "--data", dir)
	if !errors.Is(err, errTampered) || !strings.Contains(out.String(), "gate-1 seq 2: altered") {
		t.Fatalf("hub verify after an edit = %v, printed %q", err, out.String())
	}
	out.Reset()
	err = run(t, t.Context(), &out, "verify", "--data", dir, "--kiosk", "gate-2", "--json")
	if err != nil || !strings.Contains(out.String(), `"findings": []`) {
		t.Fatalf("hub verify --kiosk gate-2 --json = %v, printed %q", err, out.String())
	}
}
