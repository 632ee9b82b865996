package datadir

import (
	"database/sql"
	"os"
	"strings"
	"testing"
)

func TestOpenStores(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	if _, err := d.OpenExistingRecords(); err == nil || !strings.Contains(err.Error(), "no hub data in "+d.Path) {
		t.Fatalf("OpenExistingRecords on an empty folder = %v, want no hub data in %s", err, d.Path)
	}
	if _, err := os.Stat(d.RecordsPath()); !os.IsNotExist(err) {
		t.Fatalf("OpenExistingRecords created %s", d.RecordsPath())
	}
	r, err := d.OpenRecords()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if r, err = d.OpenExistingRecords(); err != nil {
		t.Fatalf("OpenExistingRecords after OpenRecords: %v", err)
	}
	r.Close()
	p, err := d.OpenPasses()
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	o, err := d.OpenOperators()
	if err != nil {
		t.Fatal(err)
	}
	o.Close()
	g, err := d.OpenRegistry()
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	// One database file: the stores' tables all in hub.db (with SQLite's
	// own -wal and -shm beside it while open), and the keys' folder.
	entries, err := os.ReadDir(d.Path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); n != "hub.db-wal" && n != "hub.db-shm" {
			names = append(names, n)
		}
	}
	if got, want := strings.Join(names, " "), "hub.db keys"; got != want {
		t.Errorf("a new data folder holds %s, want %s", got, want)
	}
	for _, name := range []string{"goose_db_version", "goose_operators", "goose_passes", "goose_registry",
		"entries", "kiosks", "users", "passes", "enrolled_kiosks", "merged_files"} {
		if !hasTable(t, d.RecordsPath(), name) {
			t.Errorf("hub.db has no table %s", name)
		}
	}
}

// hasTable reports whether the SQLite file at path has the table.
func hasTable(tb testing.TB, path, name string) bool {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n > 0
}
