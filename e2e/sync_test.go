package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/journal"
)

// syncBound is how long the hub may take to hold everything once it can.
const syncBound = 30 * time.Second

// gate is one kiosk under test: its simulated devices on pseudo-terminals
// (held by the test, so they outlive kiosk restarts) and its config.
type gate struct {
	cfgPath string
	dataDir string
	scanner *sim.Scanner
	therm   *sim.Thermometer
	sent    int
}

func newGate(t *testing.T, broker string) *gate {
	t.Helper()
	therm, scan := simDevices(t, sim.ThermometerOptions{})
	cfgPath, dataDir := kioskConfig(t, broker, therm, scan, `batch_size = 7
ack_timeout = "1s"`, `# The same code twice in a row is a re-measure here, not a repeat.
duplicate_window = "0s"
[rules]
# Measure-only: these tests are about sync, not passes. A fever is held
# for a second reading, which may follow at once.
require_pass = false
recheck_after = "0s"
`)
	g := &gate{cfgPath: cfgPath, dataDir: dataDir, scanner: scan, therm: therm}
	return g
}

func (g *gate) startKiosk(t *testing.T) *proc {
	t.Helper()
	return start(t, "kiosk", "kiosk ready", "run", "--config", g.cfgPath)
}

// releaseDevices clears the exclusive-open mark a killed kiosk leaves on
// the simulators' terminals (a real device loses it when unplugged): root
// ignores it, a kiosk user does not.
func (g *gate) releaseDevices(t *testing.T) {
	t.Helper()
	if err := g.scanner.ReleaseExclusive(); err != nil {
		t.Fatal(err)
	}
	if err := g.therm.ReleaseExclusive(); err != nil {
		t.Fatal(err)
	}
}

// scan makes the simulated scanner read n more codes.
func (g *gate) scan(t *testing.T, n int, gap time.Duration) {
	t.Helper()
	for i := 0; i < n; i++ {
		g.sent++
		if err := g.scanner.Send(fmt.Sprintf("PASS-%04d", g.sent)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(gap)
	}
}

// journaled returns every entry in the kiosk's journal, by sequence.
func (g *gate) journaled(t *testing.T) map[uint64]string {
	t.Helper()
	j, err := journal.OpenReadOnly(filepath.Join(g.dataDir, "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	es, err := j.Unsent(context.Background(), 0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[uint64]string{}
	for _, e := range es {
		ids[e.Seq] = e.ID
	}
	return ids
}

// hub is a hub process's addresses, restartable on the same data.
type hub struct {
	dataDir, mqttListen, httpListen, broker string
	mosq                                    *mosquittoProc // the external broker, closed by the hub's registry; nil: embedded
	// mqttsListen, once initTLS has run, is the embedded broker's TLS
	// address; with an external broker, TLS is the broker's URL.
	mqttsListen string
	tls         bool
	// metricsListen, when set, serves /metrics there without a token
	// (--metrics-listen); else the console's port wants an admin's token.
	metricsListen string
	// extra are more `hub serve` flags (a replica's, for one).
	extra []string
}

func (h *hub) start(t *testing.T) *proc {
	t.Helper()
	args := []string{"serve", "--data", h.dataDir, "--http-listen", h.httpListen}
	if h.broker != "" {
		args = append(args, "--broker", h.broker)
		if h.tls {
			args = append(args, "--broker-ca", filepath.Join(h.dataDir, "tls", "ca.crt"))
		}
	} else {
		args = append(args, "--mqtt-listen", h.mqttListen)
	}
	if h.tls {
		// The listeners a hub with certificates opens by default (all
		// interfaces) are the test's own, on loopback, or off.
		mqtts := h.mqttsListen
		if mqtts == "" {
			mqtts = "off"
		}
		args = append(args, "--mqtts-listen", mqtts, "--enroll-listen", "off")
	}
	if h.metricsListen != "" {
		args = append(args, "--metrics-listen", h.metricsListen)
	}
	args = append(args, h.extra...)
	return start(t, "hub", "hub ready", args...)
}

// initTLS makes the hub's CA and certificate (`hub tls init`) for the
// loopback addresses the tests use, and a TLS address for its embedded
// broker.
func (h *hub) initTLS(t *testing.T) {
	t.Helper()
	run(t, "hub", "tls", "init", "--data", h.dataDir, "--name", "127.0.0.1", "--name", "127.0.0.2")
	h.tls = true
	if h.broker == "" && h.mosq == nil {
		h.mqttsListen = testkit.FreeAddr(t)
	}
}

// checkExactlyOnce proves the hub holds each journaled entry exactly once:
// sequences 1..N, no duplicates, the same ids, and the kiosk has nothing
// unsynced.
func checkExactlyOnce(t *testing.T, g *gate, h *hub) int {
	t.Helper()
	// Scans may still be arriving: wait for one consistent moment at which
	// the kiosk is synced and the journal and the hub hold the same count,
	// then compare them entry by entry.
	var journaled map[uint64]string
	var entries []hubEntry
	testkit.EventuallyState(t, syncBound, "kiosk fully synced, journal and hub at one count", func() (bool, string) {
		st := kioskStatus(t, g.cfgPath)
		if st.Unsynced != 0 || st.LastSeq == 0 {
			return false, fmt.Sprintf("%+v", st)
		}
		journaled, entries = g.journaled(t), hubEntries(t, h.dataDir)
		return len(journaled) == len(entries) && uint64(len(journaled)) >= st.LastSeq,
			fmt.Sprintf("%+v; journal %d, hub %d", st, len(journaled), len(entries))
	})
	seen := map[uint64]bool{}
	for _, e := range entries {
		if e.Kiosk != "gate-1" || e.Site != "site-1" {
			t.Errorf("hub holds an entry from %s/%s", e.Site, e.Kiosk)
		}
		if seen[e.Seq] {
			t.Errorf("hub holds seq %d twice", e.Seq)
		}
		seen[e.Seq] = true
		if journaled[e.Seq] != e.ID {
			t.Errorf("hub seq %d has id %s, the journal %q", e.Seq, e.ID, journaled[e.Seq])
		}
	}
	for seq := uint64(1); seq <= uint64(len(journaled)); seq++ {
		if !seen[seq] {
			t.Errorf("hub lacks seq %d", seq)
		}
	}
	if len(entries) != len(journaled) {
		t.Errorf("hub holds %d entries, the journal %d", len(entries), len(journaled))
	}
	return len(entries)
}

// testSync is the whole story on one broker: entries made while the hub
// is down all arrive once it is up, and a kiosk killed mid-stream loses
// and duplicates nothing.
func testSync(t *testing.T, h *hub, kioskBroker string) {
	g := newGate(t, kioskBroker)
	h.enrollKiosk(t, g.cfgPath, kioskBroker)
	k := g.startKiosk(t)

	// The hub is down: the gate keeps working and journals everything.
	const n = 20
	g.scan(t, n, 20*time.Millisecond)
	testkit.EventuallyState(t, syncBound, "kiosk journaled every scan", func() (bool, string) {
		st := kioskStatus(t, g.cfgPath)
		return st.LastSeq == n && st.Unsynced == n, fmt.Sprintf("%+v", st)
	})

	start := time.Now()
	h.start(t)
	if got := checkExactlyOnce(t, g, h); got != n {
		t.Fatalf("hub holds %d entries, want %d", got, n)
	}
	t.Logf("%d entries made offline reached the hub %s after it started", n, time.Since(start).Round(time.Millisecond))

	// Kill the kiosk mid-stream, restart it, keep scanning.
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.scan(t, 40, 15*time.Millisecond)
	}()
	testkit.EventuallyState(t, syncBound, "kiosk journaling the second stream", func() (bool, string) {
		st := kioskStatus(t, g.cfgPath)
		return st.LastSeq >= n+10, fmt.Sprintf("%+v", st)
	})
	k.kill(t)
	g.releaseDevices(t)
	k = g.startKiosk(t)
	<-done
	g.scan(t, 5, 10*time.Millisecond)
	testkit.EventuallyState(t, syncBound, "kiosk journaled the last scan after its restart", func() (bool, string) {
		ids := g.journaled(t)
		return len(ids) > n+10, fmt.Sprintf("%d journaled", len(ids))
	})
	got := checkExactlyOnce(t, g, h)
	t.Logf("after SIGKILL and restart: hub holds %d entries exactly once (of %d scans sent)", got, g.sent)
	k.stop(t)
}

func TestSyncEmbeddedBroker(t *testing.T) {
	h := &hub{dataDir: t.TempDir(), mqttListen: testkit.FreeAddr(t), httpListen: testkit.FreeAddr(t)}
	testSync(t, h, "tcp://"+h.mqttListen)
}

func TestSyncMosquitto(t *testing.T) {
	h := &hub{dataDir: t.TempDir(), httpListen: testkit.FreeAddr(t)}
	h.mosq = startMosquitto(t, h.dataDir)
	h.broker = h.mosq.url
	testSync(t, h, h.broker)
}
