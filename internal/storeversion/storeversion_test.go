package storeversion

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		have, known int
		refused     bool
	}{{0, 0, false}, {0, 7, false}, {7, 7, false}, {8, 7, true}, {1, 0, true}} {
		err := Check("hub.db", tc.have, tc.known, "hub")
		if (err != nil) != tc.refused || (err != nil) != errors.Is(err, ErrNewer) {
			t.Errorf("Check(hub.db, %d, %d) = %v, refused: want %v", tc.have, tc.known, err, tc.refused)
		}
	}
	err := Check("journal.db", 3, 1, "kiosk")
	want := "journal.db is at schema version 3 but this kiosk knows versions up to 1: it was written by a newer gatepost; " +
		"install that version again (or restore a backup made by this one)"
	if err == nil || err.Error() != want {
		t.Errorf("Check(journal.db, 3, 1) = %v, want %q", err, want)
	}
	var ne *NewerError
	if !errors.As(err, &ne) || ne.Have != 3 || ne.Known != 1 {
		t.Errorf("errors.As(%v) = %+v", err, ne)
	}
}

// TestReadFile reads a file's version while another connection writes
// it, without making a missing file or changing a present one.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	if _, err := ReadFile(t.Context(), missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile(missing) = %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile made %s", missing)
	}
	path := filepath.Join(dir, "store.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (x); PRAGMA user_version = 5`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin() // a writer mid-transaction: its change is not seen
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`PRAGMA user_version = 6`); err != nil {
		t.Fatal(err)
	}
	if v, err := ReadFile(t.Context(), path); err != nil || v != 5 {
		t.Errorf("ReadFile beside a writer = %d, %v; want 5", v, err)
	}
	if v, err := CheckDB(t.Context(), tx, "store.db", 5, "hub"); err == nil || v != 6 || !strings.Contains(err.Error(), "version 6") {
		t.Errorf("CheckDB in the writer's transaction = %d, %v; want 6 refused", v, err)
	}
}
