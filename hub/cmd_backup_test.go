package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/registry"
)

// TestRestoreAnOlderBackup restores a backup made before the hub kept
// every store in hub.db (console.db and kiosks.db beside it): the files
// come back as they were, the first command merges them, and a backup
// made then holds one database.
func TestRestoreAnOlderBackup(t *testing.T) {
	old := t.TempDir()
	seed(t, old)
	o, err := operators.Open(filepath.Join(old, operators.FileName), nil) // the store's own file, as before
	if err != nil {
		t.Fatal(err)
	}
	if err := o.AddUser(t.Context(), "wang", "a long enough password 1", true); err != nil {
		t.Fatal(err)
	}
	o.Close()
	g, err := registry.OpenFile(t.Context(), filepath.Join(old, registry.FileName), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := g.NewCode(t.Context(), "huamu-1", "gate-1", time.Hour); err != nil {
		t.Fatal(err)
	}
	g.Close()
	var out bytes.Buffer
	backup := filepath.Join(t.TempDir(), "old.backup")
	if err := run(t, t.Context(), &out, "backup", "--data", old, "--out", backup); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), ": 3 databases,") {
		t.Fatalf("hub backup of the older folder = %q, want 3 databases (hub.db, console.db, kiosks.db)", out.String())
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if err := run(t, t.Context(), &out, "restore", "--data", restored, backup); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hub.db", operators.FileName, registry.FileName} {
		if _, err := os.Stat(filepath.Join(restored, name)); err != nil {
			t.Errorf("%s not restored: %v", name, err)
		}
	}
	out.Reset()
	if err := run(t, t.Context(), &out, "users", "list", "--data", restored); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^wang\s+admin\s+active`).MatchString(out.String()) {
		t.Errorf("users list after the restore =\n%s", out.String())
	}
	out.Reset()
	if err := run(t, t.Context(), &out, "kiosks", "list", "--data", restored); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "gate-1") {
		t.Errorf("kiosks list after the restore =\n%s", out.String())
	}
	for _, name := range []string{operators.FileName, registry.FileName} {
		if _, err := os.Stat(filepath.Join(restored, name+datadir.MergedSuffix)); err != nil {
			t.Errorf("%s not merged and kept: %v", name, err)
		}
	}
	out.Reset()
	if err := run(t, t.Context(), &out, "backup", "--data", restored, "--out", filepath.Join(t.TempDir(), "new.backup")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), ": 1 databases,") {
		t.Errorf("hub backup after the merge = %q, want 1 database (hub.db)", out.String())
	}
}
