package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/kiosk/daemon"
	"github.com/gatepost/gatepost/kiosk/journal"
	pt "github.com/gatepost/gatepost/protocol/protocoltest"
)

// TestExportFromSaysWhatRetentionDeleted: `kiosk export --from N` writes
// the entries from N on that the journal still holds, acknowledged ones
// included, and says which of them retention has deleted already.
func TestExportFromSaysWhatRetentionDeleted(t *testing.T) {
	g := newDoctorGate(t)
	g.write(t, false)
	ctx := context.Background()
	j, err := journal.Open(filepath.Join(g.dataDir, daemon.JournalFile), "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-60 * 24 * time.Hour)
	for i := range 9 {
		e := pt.Entry()
		e.Time = old.Add(time.Duration(i) * time.Hour)
		if i >= 6 { // 7..9: this week's
			e.Time = time.Now().Add(-time.Duration(10-i) * time.Hour)
		}
		if _, err := j.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := j.Ack(ctx, 8, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n, err := j.Purge(ctx, time.Now().Add(-30*24*time.Hour)); err != nil || n != 6 {
		t.Fatalf("Purge = %d, %v; want 1..6 deleted", n, err)
	}
	j.Close()

	bundle := filepath.Join(g.dir, "gate-1.gpx")
	out, err := runKiosk(t, "export", "--config", g.cfgPath, "--out", bundle, "--from", "4")
	if err != nil {
		t.Fatalf("kiosk export --from 4: %v\n%s", err, out)
	}
	for _, want := range []string{"warning: entries 4..6 are no longer in the journal", "the bundle starts at 7",
		"exported 3 entries of kiosk gate-1 (seq 7..9"} {
		if !strings.Contains(out, want) {
			t.Errorf("kiosk export --from 4 printed %q; want %q", out, want)
		}
	}
	b := pt.ReadBundle(t, bundle)
	if b.From != 7 || b.To != 9 || len(b.Entries) != 3 {
		t.Errorf("bundle holds %d..%d (%d entries); want 7..9", b.From, b.To, len(b.Entries))
	}
	// Without --from, only what the hub has not acknowledged.
	if out, err := runKiosk(t, "export", "--config", g.cfgPath, "--out", bundle); err != nil ||
		!strings.Contains(out, "exported 1 entries of kiosk gate-1 (seq 9..9") {
		t.Errorf("kiosk export: %v\n%s; want entry 9 alone", err, out)
	}
}
