package e2e

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
)

// TestPassesAtTheGate issues passes with the real hub program, hands the
// key set and status list to a kiosk through `hub passes export-kiosk`,
// and scans them on the kiosk's simulated scanner with no hub running:
// the journal must hold each decision with its reasons, the pass id
// instead of the token, and the fever hold and second reading.
func TestPassesAtTheGate(t *testing.T) {
	hubData := t.TempDir()
	var issued []struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	if _, err := runProgram("hub", "keys", "init", "--data", hubData); err != nil {
		t.Fatal(err)
	}
	for _, unit := range []string{"3-502", "3-503", "3-504"} {
		var one []struct {
			ID    string `json:"id"`
			Token string `json:"token"`
		}
		runJSON(t, &one, "hub", "passes", "issue", "--json", "--data", hubData, "--site", "site-1", "--unit", unit, "--name", "王小明")
		issued = append(issued, one...)
	}
	if _, err := runProgram("hub", "passes", "revoke", issued[1].ID, "--reason", "reported lost", "--data", hubData); err != nil {
		t.Fatal(err)
	}

	var celsius atomic.Uint64
	celsius.Store(math.Float64bits(36.5))
	therm, scan := simDevices(t, sim.ThermometerOptions{Object: func() float64 { return math.Float64frombits(celsius.Load()) }})
	cfgPath, dataDir := kioskConfig(t, "tcp://"+testkit.FreeAddr(t), therm, scan, "", `# The test scans the same pass again for the re-measure.
duplicate_window = "0s"
[rules]
recheck_after = "0s"
`)
	if _, err := runProgram("hub", "passes", "export-kiosk", "--data", hubData, "--site", "site-1", "--out", dataDir); err != nil {
		t.Fatal(err)
	}
	start(t, "kiosk", "kiosk ready", "run", "--config", cfgPath)

	type want struct {
		decision protocol.Decision
		reasons  []string
		pass     string
		scan     string
		alert    bool
	}
	steps := []struct {
		text    string
		celsius float64
		want    want
	}{
		{issued[0].Token, 36.5, want{protocol.DecisionAllow, []string{"pass_valid", "temperature_normal"}, issued[0].ID, "", false}},
		{issued[1].Token, 36.5, want{protocol.DecisionAlert, []string{"pass_revoked", "temperature_normal"}, issued[1].ID, "", true}},
		{"https://example.com/pay?x=1", 36.5, want{protocol.DecisionDeny, []string{"pass_not_a_pass", "temperature_normal"}, "", "https://example.com/pay?x=1", false}},
		{issued[2].Token, 38.2, want{protocol.DecisionRemeasure, []string{"fever_hold", "pass_valid"}, issued[2].ID, "", false}},
		{issued[2].Token, 38.0, want{protocol.DecisionAlert, []string{"fever_confirmed", "pass_valid"}, issued[2].ID, "", true}},
	}
	for i, s := range steps {
		celsius.Store(math.Float64bits(s.celsius))
		if err := scan.Send(s.text); err != nil {
			t.Fatal(err)
		}
		var got []protocol.Entry
		testkit.EventuallyState(t, 20*time.Second, fmt.Sprintf("entry %d journaled", i+1), func() (bool, string) {
			got = journaledEntries(t, dataDir)
			return len(got) > i, fmt.Sprintf("%d entries", len(got))
		})
		e := got[i]
		if e.Decision != s.want.decision || !slices.Equal(e.Reasons, s.want.reasons) || e.Pass != s.want.pass ||
			e.Scan != s.want.scan || e.Alert != s.want.alert {
			t.Errorf("entry %d = %s %v pass=%q scan=%q alert=%v, want %s %v pass=%q scan=%q alert=%v", i+1,
				e.Decision, e.Reasons, e.Pass, e.Scan, e.Alert, s.want.decision, s.want.reasons, s.want.pass, s.want.scan, s.want.alert)
		}
		if e.Pass != "" && e.Unit == "" {
			t.Errorf("entry %d has pass %s but no unit", i+1, e.Pass)
		}
	}
}

func journaledEntries(t *testing.T, dataDir string) []protocol.Entry {
	t.Helper()
	path := filepath.Join(dataDir, "journal.db")
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	j, err := journal.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	es, err := j.Unsent(context.Background(), 0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// runProgram runs one of the built programs to completion.
func runProgram(prog string, args ...string) ([]byte, error) {
	out, err := exec.Command(filepath.Join(bin, prog), args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%s %v: %v\n%s", prog, args, err, out)
	}
	return out, nil
}
