package registry

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Versions reads a file's version without changing it: the v1 file made
// before goose is at 1, a migrated file at what this build knows, and
// a missing file is fs.ErrNotExist.
func TestVersionsReadsWithoutChanging(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	old := filepath.Join(dir, "old.db")
	data, err := os.ReadFile(filepath.Join("testdata", "kiosks-v1.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, data, 0o600); err != nil {
		t.Fatal(err)
	}
	have, known, err := Versions(ctx, old)
	if err != nil || have != 1 || known < 2 {
		t.Fatalf("Versions(v1 file) = %d, %d, %v; want 1 and at least 2", have, known, err)
	}
	if after, _ := os.ReadFile(old); !bytes.Equal(after, data) {
		t.Error("Versions changed the file it read")
	}
	if _, err := os.Stat(old + "-wal"); err == nil {
		t.Error("Versions left a WAL beside the file")
	}

	s, err := OpenFile(ctx, old, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if have, known2, err := Versions(ctx, old); err != nil || have != known || known2 != known {
		t.Errorf("Versions(migrated file) = %d, %d, %v; want %d twice", have, known2, err, known)
	}
	if _, _, err := Versions(ctx, filepath.Join(dir, "none.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Versions(missing) = %v, want fs.ErrNotExist", err)
	}
}
