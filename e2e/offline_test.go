package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/testkit"
)

// fleetKiosk is what `hub kiosks --json` says of a kiosk.
type fleetKiosk struct {
	Kiosk      string            `json:"kiosk"`
	Online     bool              `json:"online"`
	Contiguous uint64            `json:"contiguous"`
	Downlink   map[string]uint64 `json:"downlink"`
	SkewMS     int64             `json:"skew_ms"`
}

func fleet(t *testing.T, h *hub) []fleetKiosk {
	t.Helper()
	var ks []fleetKiosk
	runJSON(t, &ks, "hub", "kiosks", "--json", "--data", h.dataDir)
	return ks
}

func run(t *testing.T, prog string, args ...string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(bin, prog), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", prog, args, err, out)
	}
	return string(out)
}

// TestDownlinkPresenceExportImport: a config pushed by the hub changes the
// gate's fever threshold without a restart (the next checks are held as fevers);
// the fleet sees the kiosk online, running that version, and offline once
// it is SIGKILLed (its last will); entries made while the hub is away
// travel by `kiosk export` and `hub import`, twice without effect, and are
// then acknowledged over MQTT.
func TestDownlinkPresenceExportImport(t *testing.T) {
	h := &hub{dataDir: t.TempDir(), mqttListen: testkit.FreeAddr(t), httpListen: testkit.FreeAddr(t)}
	hp := h.start(t)
	g := newGate(t, "tcp://"+h.mqttListen)
	h.enrollKiosk(t, g.cfgPath, "tcp://"+h.mqttListen)
	screen := testkit.FreeAddr(t)
	cfg, _ := os.ReadFile(g.cfgPath)
	os.WriteFile(g.cfgPath, []byte(strings.Replace(string(cfg), `listen = "127.0.0.1:0"`, `listen = "`+screen+`"`, 1)), 0o644)
	k := g.startKiosk(t)
	g.scan(t, 3, 20*time.Millisecond)
	checkExactlyOnce(t, g, h)
	if out := run(t, "kiosk", "status", "--config", g.cfgPath); !strings.Contains(out, "link       online") {
		t.Errorf("kiosk status printed %q, want the link online", out)
	}
	resp, err := http.Get("http://" + screen + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`gatepost_kiosk_unsynced_entries{kiosk="gate-1",site="site-1"} 0`, "gatepost_kiosk_acks_total",
		"gatepost_kiosk_journal_checkpoints_total"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("kiosk /metrics lacks %q:\n%s", want, body)
		}
	}

	out := run(t, "hub", "push", "--data", h.dataDir, "--broker", "tcp://"+h.mqttListen,
		"--site", "site-1", "--kind", "config", "--payload", `{"fever_c":36.0}`)
	if !strings.Contains(out, "version 1") {
		t.Fatalf("hub push printed %q, want version 1", out)
	}
	testkit.EventuallyState(t, syncBound, "fleet shows the kiosk online running config v1", func() (bool, string) {
		ks := fleet(t, h)
		return len(ks) == 1 && ks[0].Online && ks[0].Downlink["config"] == 1, fmt.Sprintf("%+v", ks)
	})
	g.scan(t, 2, 20*time.Millisecond) // 36.5 °C is now over the line
	checkExactlyOnce(t, g, h)
	var es []struct {
		Seq      uint64 `json:"seq"`
		Decision string `json:"decision"`
	}
	runJSON(t, &es, "hub", "entries", "--json", "--data", h.dataDir)
	for _, e := range es {
		// Over the new line, a first reading is held for a second one.
		if want := map[bool]string{true: "allow", false: "remeasure"}[e.Seq <= 3]; e.Decision != want {
			t.Errorf("seq %d decided %q, want %q (config v1 applied after seq 3)", e.Seq, e.Decision, want)
		}
	}

	k.kill(t)
	g.releaseDevices(t)
	testkit.EventuallyState(t, syncBound, "fleet shows the SIGKILLed kiosk offline (last will)", func() (bool, string) {
		ks := fleet(t, h)
		return len(ks) == 1 && !ks[0].Online, fmt.Sprintf("%+v", ks)
	})

	hp.stop(t)
	k = g.startKiosk(t)
	g.scan(t, 4, 20*time.Millisecond)
	testkit.EventuallyState(t, syncBound, "4 entries journaled offline", func() (bool, string) {
		st := kioskStatus(t, g.cfgPath)
		return st.Unsynced == 4, fmt.Sprintf("%+v", st)
	})
	bundle := filepath.Join(t.TempDir(), "gate-1.gpx")
	out = run(t, "kiosk", "export", "--config", g.cfgPath, "--out", bundle)
	if !strings.Contains(out, "exported 4 entries of kiosk gate-1 (seq 6..9") {
		t.Fatalf("kiosk export printed %q", out)
	}
	out = run(t, "hub", "import", "--data", h.dataDir, bundle)
	if !strings.Contains(out, "4 new, 0 already held") || !strings.Contains(out, "1..9 contiguously, missing []") {
		t.Fatalf("first hub import printed %q", out)
	}
	out = run(t, "hub", "import", "--data", h.dataDir, bundle)
	if !strings.Contains(out, "0 new, 4 already held") {
		t.Fatalf("second hub import printed %q, want nothing new", out)
	}
	// --from also writes entries the hub acknowledged (for a hub restored
	// from an older backup); the hub takes the bundle, its chain and
	// signature whole, and finds them held.
	out = run(t, "kiosk", "export", "--config", g.cfgPath, "--out", bundle, "--from", "2")
	if !strings.Contains(out, "exported 8 entries of kiosk gate-1 (seq 2..9") {
		t.Fatalf("kiosk export --from 2 printed %q", out)
	}
	out = run(t, "hub", "import", "--data", h.dataDir, bundle)
	if !strings.Contains(out, "0 new, 8 already held") {
		t.Fatalf("hub import of the --from bundle printed %q, want 8 held", out)
	}
	for from, want := range map[string]string{"0": "--from counts from 1", "10": "the journal holds no entry from 10 on"} {
		if out, err := runProgram("kiosk", "export", "--config", g.cfgPath, "--out", bundle, "--from", from); err == nil ||
			!strings.Contains(string(out), want) {
			t.Errorf("kiosk export --from %s: %v\n%s; want it refused: %q", from, err, out, want)
		}
	}
	if st := kioskStatus(t, g.cfgPath); st.Unsynced != 4 {
		t.Errorf("unsynced = %d before the hub acks over MQTT, want 4", st.Unsynced)
	}
	h.start(t)
	checkExactlyOnce(t, g, h)
	k.stop(t)
}
