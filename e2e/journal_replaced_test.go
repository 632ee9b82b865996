package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/testkit"
)

// replaceJournal deletes the kiosk's journal, as a new SD card or
// `kiosk init` on a wiped one leaves it: the next start makes a new
// journal that numbers from 1 again.
func (g *gate) replaceJournal(t *testing.T) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(filepath.Join(g.dataDir, "journal.db"+suffix)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

// setBroker points the kiosk at broker: an enrolled kiosk uses the broker
// of its enrollment (data_dir/enrollment.json), as the hub named it.
func (g *gate) setBroker(t *testing.T, from, to string) {
	t.Helper()
	path := filepath.Join(g.dataDir, "enrollment.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var a map[string]any
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatal(err)
	}
	if a["broker"] != from {
		t.Fatalf("enrollment names broker %v, not %s", a["broker"], from)
	}
	a["broker"] = to
	data, _ = json.Marshal(a)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkRenumbered proves the hub holds the old journal's n entries as they
// were and every entry of the new journal once, numbered n+1.., with the
// ids the kiosk journaled, no conflicts, and the kiosk fully synced.
func checkRenumbered(t *testing.T, g *gate, h *hub, old []hubEntry, m int) {
	t.Helper()
	n := len(old)
	testkit.EventuallyState(t, syncBound, "kiosk fully synced after renumbering", func() (bool, string) {
		st := kioskStatus(t, g.cfgPath)
		return st.Unsynced == 0 && st.LastSeq == uint64(n+m) && st.AckedSeq == uint64(n+m), fmt.Sprintf("%+v", st)
	})
	journaled := g.journaled(t)
	if len(journaled) != m {
		t.Fatalf("new journal holds %d entries, want %d", len(journaled), m)
	}
	entries := hubEntries(t, h.dataDir)
	if len(entries) != n+m {
		t.Errorf("hub holds %d entries, want %d + %d", len(entries), n, m)
	}
	bySeq := map[uint64]hubEntry{}
	for _, e := range entries {
		if _, dup := bySeq[e.Seq]; dup {
			t.Errorf("hub holds seq %d twice", e.Seq)
		}
		bySeq[e.Seq] = e
	}
	for _, e := range old {
		if got := bySeq[e.Seq]; got.ID != e.ID || got.Scan != e.Scan {
			t.Errorf("hub seq %d = %s %q, want the old journal's %s %q", e.Seq, got.ID, got.Scan, e.ID, e.Scan)
		}
	}
	for seq := uint64(n + 1); seq <= uint64(n+m); seq++ {
		id, ok := journaled[seq]
		if !ok {
			t.Errorf("new journal has no seq %d: not renumbered after %d", seq, n)
		}
		if got := bySeq[seq]; got.ID != id {
			t.Errorf("hub seq %d has id %q, the new journal %q", seq, got.ID, id)
		}
	}
	var ks []struct {
		Kiosk     string `json:"kiosk"`
		Conflicts uint64 `json:"conflicts"`
		Journal   string `json:"journal"`
	}
	runJSON(t, &ks, "hub", "kiosks", "--json", "--data", h.dataDir)
	st := kioskStatus(t, g.cfgPath)
	if len(ks) != 1 || ks[0].Conflicts != 0 || ks[0].Journal == "" || ks[0].Journal != st.ID {
		t.Errorf("hub kiosks = %+v; want gate-1 with no conflicts, holding the kiosk's journal %s", ks, st.ID)
	}
}

// TestReplacedJournalRenumbered: a kiosk syncs its entries, its journal
// is deleted, and it records more, first while the hub is down. The new
// journal numbers from 1 again; the hub stores none of those numbers,
// tells the kiosk where its entries end, and the kiosk renumbers its
// entries after them: the hub ends with every entry of both journals
// once, and the kiosk with nothing unsynced.
func TestReplacedJournalRenumbered(t *testing.T) {
	h := &hub{dataDir: t.TempDir(), mqttListen: testkit.FreeAddr(t), httpListen: testkit.FreeAddr(t)}
	hp := h.start(t)
	g := newGate(t, "tcp://"+h.mqttListen)
	h.enrollKiosk(t, g.cfgPath, "tcp://"+h.mqttListen)
	k := g.startKiosk(t)
	const n = 6
	g.scan(t, n, 20*time.Millisecond)
	if got := checkExactlyOnce(t, g, h); got != n {
		t.Fatalf("hub holds %d entries, want %d", got, n)
	}
	old := hubEntries(t, h.dataDir)
	k.stop(t)
	g.replaceJournal(t)

	hp.stop(t)
	k = g.startKiosk(t)
	g.scan(t, 3, 20*time.Millisecond)
	testkit.EventuallyState(t, syncBound, "the new journal numbers from 1 while the hub is down", func() (bool, string) {
		st := kioskStatus(t, g.cfgPath)
		return st.LastSeq == 3 && st.Unsynced == 3 && st.AckedSeq == 0, fmt.Sprintf("%+v", st)
	})
	hp = h.start(t)
	g.scan(t, 2, 20*time.Millisecond)
	checkRenumbered(t, g, h, old, 5)
	// The embedded broker lost the retained ack with the restart, so the
	// hub learnt of the new journal from a batch, and said so.
	if out := hp.output(); !strings.Contains(out, "gate-1 sent entries from a new journal") ||
		!strings.Contains(out, "the kiosk will renumber its entries after 6") {
		t.Errorf("hub log does not report the replaced journal:\n%s", out)
	}
	g.scan(t, 2, 20*time.Millisecond)
	checkRenumbered(t, g, h, old, 7)
	k.stop(t)
}

// TestReplacedJournalWroteMoreThanTheHubHolds is the case that once lost
// entries silently: the new journal writes more entries than the hub
// holds from the old one before it first connects, and the hub's retained
// ack (up to n) is waiting for it. Every entry of the new journal reaches
// the hub.
func TestReplacedJournalWroteMoreThanTheHubHolds(t *testing.T) {
	h := &hub{dataDir: t.TempDir(), mqttListen: testkit.FreeAddr(t), httpListen: testkit.FreeAddr(t)}
	h.start(t)
	broker := "tcp://" + h.mqttListen
	g := newGate(t, broker)
	h.enrollKiosk(t, g.cfgPath, broker)
	k := g.startKiosk(t)
	const n = 4
	g.scan(t, n, 20*time.Millisecond)
	checkExactlyOnce(t, g, h)
	old := hubEntries(t, h.dataDir)
	k.stop(t)
	g.replaceJournal(t)

	// Offline (no broker where it looks), the new journal writes n+3.
	nowhere := "tcp://" + testkit.FreeAddr(t)
	g.setBroker(t, broker, nowhere)
	k = g.startKiosk(t)
	g.scan(t, n+3, 20*time.Millisecond)
	testkit.EventuallyState(t, syncBound, "the new journal wrote more than the hub holds", func() (bool, string) {
		st := kioskStatus(t, g.cfgPath)
		return st.LastSeq == n+3 && st.Unsynced == n+3, fmt.Sprintf("%+v", st)
	})
	k.stop(t)
	g.setBroker(t, nowhere, broker)
	k = g.startKiosk(t)
	checkRenumbered(t, g, h, old, n+3)
	k.stop(t)
}
