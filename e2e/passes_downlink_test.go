package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// TestPassesReachKioskOverMQTT: with no files handed over, a kiosk learns
// the hub's keys and status list over the retained downlink, lets a good
// pass in, and turns back a pass revoked afterwards at the hub, within a
// bound and without a restart.
func TestPassesReachKioskOverMQTT(t *testing.T) {
	hubData := t.TempDir()
	if _, err := runProgram("hub", "keys", "init", "--data", hubData); err != nil {
		t.Fatal(err)
	}
	var issued []struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	runJSON(t, &issued, "hub", "passes", "issue", "--json", "--data", hubData, "--site", "site-1", "--unit", "3-502", "--name", "王小明")
	mqttAddr := testkit.FreeAddr(t)
	start(t, "hub", "hub ready", "serve", "--data", hubData, "--mqtt-listen", mqttAddr,
		"--http-listen", testkit.FreeAddr(t), "--passes-every", "200ms")

	scan, dataDir := startPassKiosk(t, hubData, mqttAddr)

	// decide scans the pass once and returns the entry it made.
	decide := func() protocol.Entry { t.Helper(); return scanOnce(t, scan, dataDir, issued[0].Token) }
	scanUntil := func(want protocol.Decision, reason string) {
		t.Helper()
		testkit.EventuallyState(t, 20*time.Second, fmt.Sprintf("a scan decided %s with %s", want, reason), func() (bool, string) {
			e := decide()
			return e.Decision == want && slices.Contains(e.Reasons, reason), fmt.Sprintf("%s %v", e.Decision, e.Reasons)
		})
	}
	scanUntil(protocol.DecisionAllow, "pass_valid")

	if _, err := runProgram("hub", "passes", "revoke", issued[0].ID, "--reason", "reported lost", "--data", hubData); err != nil {
		t.Fatal(err)
	}
	scanUntil(protocol.DecisionAlert, "pass_revoked")
}

// startPassKiosk starts a kiosk on simulated devices against the broker
// at mqttAddr, enrolled at the hub of hubData, and waits until it holds
// the hub's keys and status list.
func startPassKiosk(t *testing.T, hubData, mqttAddr string) (scan *sim.Scanner, dataDir string) {
	t.Helper()
	therm, scan := simDevices(t, sim.ThermometerOptions{})
	cfgPath, dataDir := kioskConfig(t, "tcp://"+mqttAddr, therm, scan, "", "duplicate_window = \"0s\"\n")
	(&hub{dataDir: hubData}).enrollKiosk(t, cfgPath, "tcp://"+mqttAddr)
	start(t, "kiosk", "kiosk ready", "run", "--config", cfgPath)
	var st struct {
		Downlink map[string]uint64 `json:"downlink"`
	}
	testkit.EventuallyState(t, 20*time.Second, "kiosk holding the hub's keys and status list", func() (bool, string) {
		runJSON(t, &st, "kiosk", "status", "--json", "--config", cfgPath)
		return st.Downlink["keys"] > 0 && st.Downlink["status_list"] > 0, fmt.Sprintf("%v", st.Downlink)
	})
	return scan, dataDir
}

// scanOnce scans token once and returns the entry the kiosk journaled.
func scanOnce(t *testing.T, scan *sim.Scanner, dataDir, token string) protocol.Entry {
	t.Helper()
	before := len(journaledEntries(t, dataDir))
	if err := scan.Send(token); err != nil {
		t.Fatal(err)
	}
	var last protocol.Entry
	testkit.EventuallyState(t, 10*time.Second, "the scan journaled", func() (bool, string) {
		es := journaledEntries(t, dataDir)
		if len(es) <= before {
			return false, fmt.Sprintf("%d entries", len(es))
		}
		last = es[len(es)-1]
		return true, ""
	})
	return last
}
