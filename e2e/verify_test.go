package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/need"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

// verified is what `hub verify --json` prints.
type verified struct {
	Kiosks   int `json:"kiosks"`
	Entries  int `json:"entries"`
	Findings []struct {
		Kiosk   string `json:"kiosk"`
		Seq     uint64 `json:"seq"`
		Last    uint64 `json:"last"`
		Problem string `json:"problem"`
		Detail  string `json:"detail"`
	} `json:"findings"`
}

// hubVerify runs `hub verify --json` and returns what it printed and
// whether it exited zero.
func hubVerify(t *testing.T, dataDir string) (verified, bool) {
	t.Helper()
	out, err := exec.Command(filepath.Join(bin, "hub"), "verify", "--json", "--data", dataDir).Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("hub verify: %v", err)
	}
	var v verified
	if jerr := json.Unmarshal(out, &v); jerr != nil {
		t.Fatalf("hub verify printed %q: %v", out, jerr)
	}
	return v, err == nil
}

// TestVerifyNamesEditsInHubStorage: a real kiosk syncs a real hub; with
// the hub stopped, rows of hub.db are edited, deleted and inserted with
// the sqlite3 tool, and `hub verify` names each one and exits non-zero.
// Unedited storage verifies clean.
func TestVerifyNamesEditsInHubStorage(t *testing.T) {
	sqlite3 := need.Program(t, "sqlite3", "sqlite3")
	h := &hub{dataDir: t.TempDir(), mqttListen: testkit.FreeAddr(t), httpListen: testkit.FreeAddr(t)}
	broker := "tcp://" + h.mqttListen
	g := newGate(t, broker)
	h.enrollKiosk(t, g.cfgPath, broker)
	hp := h.start(t)
	k := g.startKiosk(t)
	const n = 12
	g.scan(t, n, 20*time.Millisecond)
	testkit.EventuallyState(t, syncBound, "kiosk journaled every scan", func() (bool, string) {
		return kioskStatus(t, g.cfgPath).LastSeq == n, "waiting"
	})
	if got := checkExactlyOnce(t, g, h); got != n {
		t.Fatalf("hub holds %d entries, want %d", got, n)
	}
	k.stop(t)
	hp.stop(t)

	v, ok := hubVerify(t, h.dataDir)
	if !ok || v.Entries != n || len(v.Findings) != 0 {
		t.Fatalf("hub verify of unedited storage = %+v, exit zero %v; want %d entries, no findings", v, ok, n)
	}

	db := filepath.Join(h.dataDir, "hub.db")
	edits := []string{
		// One temperature changed, as someone hiding a fever would.
		`UPDATE entries SET body = json_set(body, '$.temperature.screened_c', 36.4) WHERE seq = 4;`,
		`DELETE FROM entries WHERE seq = 7;`,
		// A copy of the last entry under a new sequence, its hash and all.
		`INSERT INTO entries (kiosk, seq, site, id, time, kind, decision, body, received_at, unit, hash, prev, personal)
			SELECT kiosk, seq + 1, site, id, time, kind, decision, json_set(body, '$.seq', seq + 1), received_at, unit, hash, prev, personal
			FROM entries WHERE seq = 12;`,
	}
	if out, err := exec.Command(sqlite3, db, strings.Join(edits, "\n")).CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
	v, ok = hubVerify(t, h.dataDir)
	if ok {
		t.Error("hub verify exited zero after hub.db was edited")
	}
	got := map[uint64]string{}
	for _, f := range v.Findings {
		if f.Kiosk != "gate-1" {
			t.Errorf("finding names kiosk %q", f.Kiosk)
		}
		got[f.Seq] = f.Problem
		t.Logf("hub verify: seq %d %s: %s", f.Seq, f.Problem, f.Detail)
	}
	want := map[uint64]string{4: "altered", 7: "deleted", 13: "inserted"}
	if len(got) != len(want) {
		t.Errorf("findings = %v, want %v", got, want)
	}
	for seq, p := range want {
		if got[seq] != p {
			t.Errorf("seq %d: finding %q, want %q", seq, got[seq], p)
		}
	}
}

// TestImportRefusesAnEditedBundle: a bundle exported by a real kiosk,
// with one temperature changed on the way and its checksum recomputed,
// is refused whole by `hub import`, naming the signature and the kiosk's
// key; the bundle as exported imports.
func TestImportRefusesAnEditedBundle(t *testing.T) {
	h := &hub{dataDir: t.TempDir(), mqttListen: testkit.FreeAddr(t), httpListen: testkit.FreeAddr(t)}
	broker := "tcp://" + h.mqttListen
	g := newGate(t, broker)
	id := h.enrollKiosk(t, g.cfgPath, broker)
	h.start(t).stop(t) // hub.db exists; the hub stays down
	k := g.startKiosk(t)
	const n = 5
	g.scan(t, n, 20*time.Millisecond)
	testkit.EventuallyState(t, syncBound, "entries journaled offline", func() (bool, string) {
		st := kioskStatus(t, g.cfgPath)
		return st.Unsynced == n, fmt.Sprintf("%+v", st)
	})
	k.stop(t)
	exported := filepath.Join(t.TempDir(), "gate-1.gpx")
	run(t, "kiosk", "export", "--config", g.cfgPath, "--out", exported)

	b := protocoltest.ReadBundle(t, exported)
	e := &b.Entries[1]
	if e.Temperature == nil {
		t.Fatalf("entry %d has no temperature to edit: %+v", e.Seq, *e)
	}
	r := *e.Temperature
	r.ScreenedC = 36.4 // a fever hidden
	e.Temperature = &r
	edited, err := protocol.EncodeBundle(b) // the checksum recomputed
	if err != nil {
		t.Fatal(err)
	}
	editedPath := filepath.Join(t.TempDir(), "edited.gpx")
	if err := os.WriteFile(editedPath, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(bin, "hub"), "import", "--data", h.dataDir, editedPath).CombinedOutput()
	// Refused for its signature, naming the key the kiosk enrolled with.
	if err == nil || !strings.Contains(string(out), "signature does not verify") ||
		!strings.Contains(string(out), id.Fingerprint) || !strings.Contains(string(out), "edited") {
		t.Fatalf("hub import of the edited bundle: %v\n%s\nwant a refusal naming the signature and key %s", err, out, id.Fingerprint)
	}
	t.Logf("hub import refused the edited bundle: %s", strings.TrimSpace(string(out)))
	if es := hubEntries(t, h.dataDir); len(es) != 0 {
		t.Fatalf("after the refused import the hub holds %d entries, want none", len(es))
	}
	if out := run(t, "hub", "import", "--data", h.dataDir, exported); !strings.Contains(out, "5 new") {
		t.Fatalf("hub import of the bundle as exported printed %q", out)
	}
}
