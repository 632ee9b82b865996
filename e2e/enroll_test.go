package e2e

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/testkit"
)

// TestEnrollOverHTTPSThenSyncOverTLS is the installer's walkthrough with a
// link, with the real programs: `hub tls init`, `hub serve` (plain MQTT
// on loopback for nobody but itself, MQTT over TLS and HTTPS enrollment
// for the kiosks), `hub kiosks enroll` printing a code, `kiosk enroll
// CODE` redeeming it over HTTPS pinned by the code, and `kiosk run`
// syncing over TLS with what it received. The same code works once.
func TestEnrollOverHTTPSThenSyncOverTLS(t *testing.T) {
	h := &hub{dataDir: t.TempDir(), mqttListen: testkit.FreeAddr(t), httpListen: testkit.FreeAddr(t)}
	mqtts, enroll := testkit.FreeAddr(t), testkit.FreeAddr(t)
	run(t, "hub", "users", "list", "--data", h.dataDir)                      // makes the data folder, as any first command does
	host, _, _ := net.SplitHostPort(enroll)                                  // the test's loopback address: the name kiosks reach the hub by
	out := run(t, "hub", "tls", "init", "--data", h.dataDir, "--name", host) // every FreeAddr is on this one loopback address
	if !strings.Contains(out, "fingerprint") {
		t.Fatalf("hub tls init printed %q", out)
	}
	hp := start(t, "hub", "hub ready", "serve", "--data", h.dataDir, "--mqtt-listen", h.mqttListen,
		"--mqtts-listen", mqtts, "--enroll-listen", enroll, "--http-listen", h.httpListen)
	var code struct {
		Code string `json:"code"`
	}
	runJSON(t, &code, "hub", "kiosks", "enroll", "--data", h.dataDir, "--site", "site-1", "--kiosk", "gate-1",
		"--hub", enroll, "--json")

	g := newGate(t, "tcp://"+testkit.FreeAddr(t)) // the configuration's broker leads nowhere: the enrollment's is used
	var enrolled struct {
		Broker string `json:"broker"`
	}
	runJSON(t, &enrolled, "kiosk", "enroll", "--config", g.cfgPath, "--json", code.Code)
	if enrolled.Broker != "tls://"+mqtts {
		t.Fatalf("the kiosk was told broker %q, want tls://%s", enrolled.Broker, mqtts)
	}
	if out, err := runProgram("kiosk", "enroll", "--config", g.cfgPath, code.Code); err == nil ||
		!strings.Contains(string(out), "used") {
		t.Fatalf("the same code a second time: %v\n%s", err, out)
	}
	k := g.startKiosk(t)
	g.scan(t, 5, 20*time.Millisecond)
	if n := checkExactlyOnce(t, g, h); n != 5 {
		t.Fatalf("hub holds %d entries, want 5", n)
	}
	if st := run(t, "kiosk", "status", "--config", g.cfgPath); !strings.Contains(st, "enrolled") || !strings.Contains(st, "yes") {
		t.Errorf("kiosk status does not say it is enrolled:\n%s", st)
	}
	k.stop(t)
	hp.stop(t)
}
