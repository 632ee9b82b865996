package datadir

import (
	"os"
	"path/filepath"
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
	for _, name := range []string{"hub.db", "console.db", "passes.db", "keys"} {
		if _, err := os.Stat(filepath.Join(d.Path, name)); err != nil {
			t.Errorf("%s not in the data folder: %v", name, err)
		}
	}
}
