package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/records"
)

func TestPurgeCommand(t *testing.T) {
	dir := t.TempDir()
	s, err := records.Open(filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	// Visitors from 60 days ago to now.
	err = s.Seed(t.Context(), records.SeedPlan{Sites: 1, Kiosks: 1, Entries: 2000,
		Start: time.Now().AddDate(0, 0, -60), Span: 60 * 24 * time.Hour, Seed: 1})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(t, t.Context(), &out, "purge", "--dry-run", "--data", dir); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "would purge visitor: ") || strings.Contains(out.String(), "visitor: 0 ") {
		t.Errorf("purge --dry-run =\n%s", out.String())
	}
	dry := out.String()
	out.Reset()
	if err := run(t, t.Context(), &out, "purge", "--data", dir); err != nil {
		t.Fatal(err)
	}
	if strings.Replace(dry, "would purge", "purged", -1) != out.String() {
		t.Errorf("purge =\n%s\nwant what the dry run said:\n%s", out.String(), dry)
	}
	out.Reset()
	if err := run(t, t.Context(), &out, "purge", "--dry-run", "--set", "visitor=7", "--data", dir); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "older than 7 days") || strings.Contains(out.String(), "visitor: 0 ") {
		t.Errorf("purge --set visitor=7 --dry-run =\n%s", out.String())
	}
	for _, bad := range []string{"visitor", "visitor=x", "everything=3", "visitor=0"} {
		if err := run(t, t.Context(), &out, "purge", "--dry-run", "--set", bad, "--data", dir); err == nil {
			t.Errorf("purge --set %s succeeded", bad)
		}
	}
}
