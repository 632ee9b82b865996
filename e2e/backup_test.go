package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/journal"
)

// TestBackupWhileIngesting: `hub backup` and `kiosk backup` run while a
// gate's traffic is being journaled and stored. Each restores (`hub
// restore`, `kiosk restore`) into a new folder as one consistent moment:
// every entry restored is the journal's own, and none the hub had
// acknowledged before the backup began is missing. A backup after the
// sync holds every entry. A hub restored from the older backup gets the
// entries it lost again from the kiosk.
func TestBackupWhileIngesting(t *testing.T) {
	h := &hub{dataDir: t.TempDir(), mqttListen: testkit.FreeAddr(t), httpListen: testkit.FreeAddr(t)}
	hp := h.start(t)
	broker := "tcp://" + h.mqttListen
	g := faultGate(t, broker)
	h.enrollKiosk(t, g.cfgPath, broker)
	k := g.startKiosk(t)
	ld := startLoad(t, g, 10*time.Millisecond)
	testkit.EventuallyState(t, syncBound, "traffic flowing to the hub", func() (bool, string) {
		st := kioskStatus(t, g.cfgPath)
		return st.AckedSeq >= 50, fmt.Sprintf("%+v", st)
	})

	acked := kioskStatus(t, g.cfgPath).AckedSeq
	dir := t.TempDir()
	// One database: every store of the hub is in hub.db.
	if out := run(t, "hub", "backup", "--data", h.dataDir, "--out", filepath.Join(dir, "hub.backup")); !strings.Contains(out, ": 1 databases,") {
		t.Errorf("hub backup = %q, want 1 database (hub.db)", out)
	}
	run(t, "kiosk", "backup", "--config", g.cfgPath, "--out", filepath.Join(dir, "kiosk.backup"))
	ld.end()

	restored := &hub{dataDir: filepath.Join(dir, "hub-restored")}
	run(t, "hub", "restore", "--data", restored.dataDir, filepath.Join(dir, "hub.backup"))
	journaled := g.journaled(t)
	es := hubEntries(t, restored.dataDir)
	// The hub may hold entries past a gap (alerts travel apart), but never
	// lacks one it had acknowledged, and each is the journal's.
	held := map[uint64]bool{}
	for _, e := range es {
		held[e.Seq] = true
		if journaled[e.Seq] != e.ID {
			t.Fatalf("restored entry seq %d has id %s, the journal %s", e.Seq, e.ID, journaled[e.Seq])
		}
	}
	for seq := uint64(1); seq <= acked; seq++ {
		if !held[seq] {
			t.Fatalf("the backup taken during ingest lacks seq %d; %d were acknowledged before it began", seq, acked)
		}
	}

	kioskCfg := filepath.Join(dir, "restored-kiosk.toml")
	writeKioskConfigWithData(t, g.cfgPath, kioskCfg, filepath.Join(dir, "kiosk-restored"))
	run(t, "kiosk", "restore", "--config", kioskCfg, filepath.Join(dir, "kiosk.backup"))
	j, err := journal.OpenReadOnly(filepath.Join(dir, "kiosk-restored", "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	kes, err := j.Unsent(context.Background(), 0, 1<<30)
	j.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(kes) < len(es) {
		t.Fatalf("the kiosk's backup holds %d entries, fewer than the hub's taken before it (%d)", len(kes), len(es))
	}
	for i, e := range kes {
		if e.Seq != uint64(i+1) || journaled[e.Seq] != e.ID {
			t.Fatalf("restored journal entry %d is seq %d id %s", i, e.Seq, e.ID)
		}
	}

	// After the sync a backup holds everything.
	all := checkExactlyOnce(t, g, h)
	run(t, "hub", "backup", "--data", h.dataDir, "--out", filepath.Join(dir, "hub-after.backup"))
	after := filepath.Join(dir, "hub-after")
	run(t, "hub", "restore", "--data", after, filepath.Join(dir, "hub-after.backup"))
	if n := len(hubEntries(t, after)); n != all {
		t.Fatalf("the backup after the sync holds %d entries, the hub %d", n, all)
	}
	t.Logf("backup during ingest: %d entries (≥ %d acknowledged before); kiosk journal %d; after the sync all %d", len(es), acked, len(kes), all)

	// The hub is replaced by the one restored from the backup taken during
	// ingest: it lost entries it had acknowledged since. Once the gate
	// writes again, its acks stay below what the kiosk recorded, and the
	// kiosk sends the lost entries again: the restored hub ends up
	// holding every entry, each once.
	if len(es) >= all {
		t.Fatalf("the backup during ingest holds %d entries, all %d: nothing was acknowledged after it", len(es), all)
	}
	hp.stop(t)
	older := &hub{dataDir: restored.dataDir, mqttListen: h.mqttListen, httpListen: h.httpListen}
	hp = older.start(t)
	g.scan(t, 3, 20*time.Millisecond)
	again := checkExactlyOnce(t, g, older)
	if !strings.Contains(k.output(), "the hub acknowledges only") {
		t.Errorf("the kiosk's log does not say the hub lost entries:\n%s", k.output())
	}
	t.Logf("the hub restored from the backup during ingest held %d entries; the kiosk sent the rest again: %d", len(es), again)
	k.stop(t)
	hp.stop(t)
}

// writeKioskConfigWithData copies the kiosk configuration at from to to,
// with data_dir set to dataDir.
func writeKioskConfigWithData(t *testing.T, from, to, dataDir string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^data_dir = .*$`)
	if !re.Match(b) {
		t.Fatalf("%s has no data_dir line", from)
	}
	if err := os.WriteFile(to, re.ReplaceAll(b, []byte(fmt.Sprintf("data_dir = %q", dataDir))), 0o644); err != nil {
		t.Fatal(err)
	}
}
