package e2e

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/need"
	"github.com/gatepost/gatepost/internal/testkit"
)

// faultScale multiplies the number of faults each scenario injects. CI
// runs the default (1: 50 kiosk kills, 20 hub kills, 20 broker restarts);
// GATEPOST_FAULTS=10 runs ten times as many.
func faultScale(t *testing.T) int {
	s := os.Getenv("GATEPOST_FAULTS")
	if s == "" {
		return 1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("GATEPOST_FAULTS=%q: want a positive integer", s)
	}
	return n
}

// load scans a code every gap until stopped: the gate's traffic.
type load struct {
	stop chan struct{}
	done sync.WaitGroup
}

func startLoad(t *testing.T, g *gate, gap time.Duration) *load {
	l := &load{stop: make(chan struct{})}
	l.done.Go(func() {
		tick := time.NewTicker(gap)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-l.stop:
				return
			case <-tick.C:
			}
			// Every seventh person has a fever: alerts jump the queue on
			// their own topic while the faults go on.
			if i%7 == 0 {
				g.therm.SetTemperature(38.4, 25)
			} else {
				g.therm.SetTemperature(36.5, 25)
			}
			// A scan while the kiosk is dead is lost in the terminal, as a
			// code shown to a dead scanner is: only journaled entries count.
			g.scanner.Send(fmt.Sprintf("LOAD-%06d", i))
			if i%7 == 0 {
				// The fever's second reading: held, then confirmed as an alert.
				g.scanner.Send(fmt.Sprintf("LOAD-%06d", i))
			}
		}
	})
	t.Cleanup(l.end)
	return l
}

func (l *load) end() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.done.Wait()
}

// randomPause returns a duration in [lo, hi): where in the kiosk's or hub's
// work the next fault lands.
func randomPause(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rand.Int64N(int64(hi-lo)))
}

// faultGate is a gate with a fast reconnect, so that many faults fit in
// the time CI allows.
func faultGate(t *testing.T, broker string) *gate {
	g := newGate(t, broker)
	cfg, err := os.ReadFile(g.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	s := string(cfg) // insert into newGate's [mqtt] section
	s = replaceOnce(s, "batch_size = 7\n", "batch_size = 7\nbatch_wait = \"20ms\"\nbackoff_min = \"20ms\"\nbackoff_max = \"500ms\"\ngzip_above = 1024\n")
	if err := os.WriteFile(g.cfgPath, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return g
}

func replaceOnce(s, old, repl string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + repl + s[i+len(old):]
		}
	}
	panic("replaceOnce: " + old + " not found")
}

// cutter cuts the proxy's connections at random intervals and varies its
// delay until stopped.
func startCutter(t *testing.T, p *proxy) func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			t := time.NewTimer(randomPause(300*time.Millisecond, 1500*time.Millisecond))
			select {
			case <-stop:
				t.Stop()
				return
			case <-t.C:
			}
			p.delay.Store(int64(randomPause(0, 20*time.Millisecond)))
			p.cut()
		}
	})
	var once sync.Once
	end := func() { once.Do(func() { close(stop); wg.Wait(); p.delay.Store(0) }) }
	t.Cleanup(end)
	return end
}

// settle stops the traffic and the faults, then proves exactly once.
func settle(t *testing.T, g *gate, h *hub, what string, started time.Time) {
	t.Helper()
	faultsEnded := time.Now()
	n := checkExactlyOnce(t, g, h) // waits, bounded by syncBound, for unsynced = 0
	alerts := 0
	for _, e := range hubEntries(t, h.dataDir) {
		if e.Decision == "alert" {
			alerts++
		}
	}
	t.Logf("%s: hub holds all %d journaled entries (%d alerts) exactly once, no gaps; unsynced reached 0 %s after the last fault; scenario %s",
		what, n, alerts, time.Since(faultsEnded).Round(time.Millisecond), time.Since(started).Round(time.Millisecond))
}

// TestFaultsEmbeddedBroker: the kiosk SIGKILLed at random points during
// load and sync, then the hub (and with it the embedded broker) SIGKILLed
// during ingest, all through a proxy that cuts and delays the link.
func TestFaultsEmbeddedBroker(t *testing.T) {
	if testing.Short() {
		t.Skip("fault injection takes a minute; run without -short")
	}
	scale := faultScale(t)
	h := &hub{dataDir: t.TempDir(), mqttListen: testkit.FreeAddr(t), httpListen: testkit.FreeAddr(t)}
	h.initTLS(t) // as deployed: the kiosk's link is TLS with its own login
	hp := h.start(t)
	px := startProxy(t, h.mqttsListen)
	kioskURL := strings.Replace(px.url(), "tcp://", "tls://", 1)
	g := faultGate(t, kioskURL)
	h.enrollKiosk(t, g.cfgPath, kioskURL)
	endCuts := startCutter(t, px)
	ld := startLoad(t, g, 15*time.Millisecond)

	// Kiosk kills.
	began := time.Now()
	kioskKills := 50 * scale
	for i := 0; i < kioskKills; i++ {
		k := g.startKiosk(t)
		time.Sleep(randomPause(50*time.Millisecond, 400*time.Millisecond)) // where the kill lands
		k.kill(t)
		g.releaseDevices(t)
	}
	k := g.startKiosk(t)
	ld.end()
	endCuts()
	settle(t, g, h, fmt.Sprintf("%d kiosk SIGKILLs, %d link cuts", kioskKills, px.cuts.Load()), began)

	// Hub kills during ingest: the kiosk runs with traffic, the hub dies.
	began = time.Now()
	ld = startLoad(t, g, 10*time.Millisecond)
	hubKills := 20 * scale
	for i := 0; i < hubKills; i++ {
		time.Sleep(randomPause(100*time.Millisecond, 500*time.Millisecond))
		hp.kill(t)
		hp = h.start(t)
	}
	ld.end()
	settle(t, g, h, fmt.Sprintf("%d hub SIGKILLs during ingest", hubKills), began)
	k.stop(t)
	hp.stop(t)
}

// TestFaultsMosquitto: the same kiosk and hub over a real Mosquitto, which
// is SIGKILLed and restarted during sync, with kiosk kills mixed in and
// the proxy cutting the kiosk's link.
func TestFaultsMosquitto(t *testing.T) {
	if testing.Short() {
		t.Skip("fault injection takes a minute; run without -short")
	}
	scale := faultScale(t)
	h := &hub{dataDir: t.TempDir(), httpListen: testkit.FreeAddr(t)}
	h.initTLS(t) // Mosquitto serves TLS with the hub's certificate; the hub and the kiosk pin its CA
	mq := startMosquitto(t, h.dataDir)
	h.broker, h.mosq = mq.url, mq
	hp := h.start(t)
	px := startProxy(t, mq.addr)
	kioskURL := strings.Replace(px.url(), "tcp://", "tls://", 1)
	g := faultGate(t, kioskURL)
	h.enrollKiosk(t, g.cfgPath, kioskURL)
	endCuts := startCutter(t, px)
	ld := startLoad(t, g, 10*time.Millisecond)
	k := g.startKiosk(t)

	began := time.Now()
	restarts := 20 * scale
	kills := 0
	for i := 0; i < restarts; i++ {
		time.Sleep(randomPause(100*time.Millisecond, 400*time.Millisecond))
		mq.restart(t)
		if i%4 == 3 { // and now and then the kiosk too
			k.kill(t)
			g.releaseDevices(t)
			k = g.startKiosk(t)
			kills++
		}
	}
	ld.end()
	endCuts()
	settle(t, g, h, fmt.Sprintf("%d Mosquitto SIGKILL+restarts, %d kiosk SIGKILLs, %d link cuts", restarts, kills, px.cuts.Load()), began)
	k.stop(t)
	hp.stop(t)
}

// mosquittoProc is a Mosquitto the test can kill and restart on the same
// port.
type mosquittoProc struct {
	path, conf, addr, url, logPath string
	p                              *proc
	// replicas are the hub replicas' ids, each given its two logins
	// (`hub broker-config mosquitto --replica`).
	replicas []string
}

// startMosquitto runs a real Mosquitto on a free port, closed: it admits
// the hub's account and the kiosks enrolled in the registry of the hub
// data folder hubData, each to its own topics (`hub broker-config
// mosquitto`), and each of the hub replicas named its two logins;
// enrolling reloads it.
func startMosquitto(t *testing.T, hubData string, replicas ...string) *mosquittoProc {
	t.Helper()
	path := need.Program(t, "mosquitto", "mosquitto")
	addr := testkit.FreeAddr(t)
	dir := t.TempDir()
	m := &mosquittoProc{path: path, conf: filepath.Join(dir, "mosquitto.conf"), addr: addr, url: "tcp://" + addr, replicas: replicas}
	m.closeFor(t, hubData)
	m.start(t)
	return m
}

func (m *mosquittoProc) start(t *testing.T) {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(filepath.Dir(m.conf), "mosquitto.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(m.path, "-c", m.conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: "mosquitto", cmd: cmd, done: make(chan struct{}), log: logf.Name()}
	go func() { cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() { p.kill(t) })
	m.p = p
	testkit.EventuallyState(t, 10*time.Second, "mosquitto accepting connections", func() (bool, string) {
		c, err := net.Dial("tcp", m.addr)
		if err != nil {
			return false, err.Error()
		}
		c.Close()
		return true, ""
	})
}

// restart SIGKILLs Mosquitto and starts it again on the same port, with
// no persistence: its sessions and retained messages are gone.
func (m *mosquittoProc) restart(t *testing.T) {
	t.Helper()
	m.p.cmd.Process.Signal(syscall.SIGKILL)
	<-m.p.done
	m.start(t)
}
