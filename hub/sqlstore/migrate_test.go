package sqlstore

import (
	"path/filepath"
	"testing"
	"testing/fstest"
)

// A store sharing hub.db checkpoints the WAL at the same size as the
// records store's writer, not at SQLite's 1,000 pages, which would have
// its commits checkpoint for every store in the file.
func TestSharedStoreCheckpointsWithTheOthers(t *testing.T) {
	spec := Spec{Name: "test store", Schema: "test", LockID: 0x67617465000000ff, Migrations: fstest.MapFS{
		"migrations/sqlite/00001_base.sql":   {Data: []byte("-- +goose Up\nCREATE TABLE things (id INTEGER PRIMARY KEY);\n")},
		"migrations/postgres/00001_base.sql": {Data: []byte("-- +goose Up\nCREATE TABLE things (id BIGINT PRIMARY KEY);\n")},
	}}
	for _, c := range []struct {
		spec Spec
		want int
	}{{spec, 1000}, {spec.Shared("goose_test"), 10000}} {
		path := filepath.Join(t.TempDir(), "hub.db")
		db, err := OpenSQLite(t.Context(), path, c.spec)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := db.QueryRowContext(t.Context(), `PRAGMA wal_autocheckpoint`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if got != c.want {
			t.Errorf("spec with table %q: wal_autocheckpoint = %d, want %d", c.spec.Table, got, c.want)
		}
	}
}
