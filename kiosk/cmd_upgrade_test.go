package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/internal/storeversion"
	"github.com/gatepost/gatepost/internal/storeversion/storeversiontest"
	"github.com/gatepost/gatepost/kiosk/daemon"
	"github.com/gatepost/gatepost/kiosk/journal"
)

// TestRefusesNewerJournal: a kiosk downgraded below the build that wrote
// its journal neither runs nor reads it (`kiosk run`, `kiosk status`,
// `kiosk export`), says why and what to do, and leaves the journal as it
// was.
func TestRefusesNewerJournal(t *testing.T) {
	g := newDoctorGate(t)
	g.write(t, true)
	path := filepath.Join(g.dataDir, daemon.JournalFile)
	newer := journal.SchemaVersion + 1
	storeversiontest.SetVersion(t, path, newer)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("journal.db is at schema version %d but this kiosk knows versions up to %d: "+
		"it was written by a newer gatepost; install that version again (or restore a backup made by this one)", newer, journal.SchemaVersion)
	for _, args := range [][]string{{"run"}, {"status"}, {"export", "--out", filepath.Join(g.dir, "out.bundle")}} {
		_, err := runKiosk(t, append(args, "--config", g.cfgPath)...)
		if !errors.Is(err, storeversion.ErrNewer) || !strings.Contains(err.Error(), want) {
			t.Errorf("kiosk %s with a journal at version %d = %v; want it refused saying %q", args[0], newer, err, want)
		}
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, before) {
		t.Errorf("the refused journal changed (%v)", err)
	}
}
