package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mochimqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/hardware/sim/simtest"
	"github.com/gatepost/gatepost/internal/doctor"
	"github.com/gatepost/gatepost/internal/mochi"
	"github.com/gatepost/gatepost/internal/storeversion/storeversiontest"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/daemon"
	"github.com/gatepost/gatepost/kiosk/enrollment"
	"github.com/gatepost/gatepost/kiosk/enrollment/enrollmenttest"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

// doctorGate is a kiosk in good order but for what each test breaks: real
// (simulated) devices on pseudo-terminals, a journal, enrolled with a
// broker that lets it in.
type doctorGate struct {
	dir, cfgPath, dataDir string
	therm, scan           string // device ports
	broker                string
	settings              string // more TOML, appended
	requirePass           bool
	minFree               int64
}

func newDoctorGate(t *testing.T) *doctorGate {
	t.Helper()
	dir := t.TempDir()
	g := &doctorGate{dir: dir, cfgPath: filepath.Join(dir, "kiosk.toml"), dataDir: filepath.Join(dir, "data"),
		therm: simtest.Thermometer(t, sim.ThermometerOptions{Protocol: sim.GYMCU90614}).Path(),
		scan:  simtest.Scanner(t, sim.ScannerOptions{}).Path(), broker: testkit.StartBroker(t).URL}
	return g
}

// write writes the configuration, the journal and the enrollment.
func (g *doctorGate) write(t *testing.T, enroll bool) {
	t.Helper()
	text := fmt.Sprintf(`site = "huamu-1"
kiosk = "gate-1"
data_dir = "data"
[screen]
listen = %q
[thermometer]
simulate = false
port = %q
[scanner]
simulate = false
port = %q
[rules]
require_pass = %v
[retention]
min_free_bytes = %d
%s`, testkit.FreeAddr(t), g.therm, g.scan, g.requirePass, max(g.minFree, 1), g.settings)
	if err := os.WriteFile(g.cfgPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(g.dataDir, 0o750); err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(filepath.Join(g.dataDir, daemon.JournalFile), "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	if enroll {
		a := enrollmenttest.Answer("huamu-1", "gate-1", g.broker, enrollmenttest.NewCA(t, "hub CA"))
		if err := enrollment.Save(g.dataDir, a); err != nil {
			t.Fatal(err)
		}
	}
}

// doctorRun runs `kiosk doctor --json` and returns its report.
func doctorRun(t *testing.T, cfgPath string) (doctor.Report, error) {
	t.Helper()
	out, err := runKiosk(t, "doctor", "--json", "--config", cfgPath)
	var r doctor.Report
	if jerr := json.Unmarshal([]byte(out[:strings.LastIndex(out, "}")+1]), &r); jerr != nil {
		t.Fatalf("kiosk doctor --json printed %q: %v", out, jerr)
	}
	return r, err
}

func status(r doctor.Report, check string) string {
	l, _ := r.Find(check)
	return l.Status
}

// TestDoctorGood: a kiosk in order has no FAIL and exits 0; the screen is
// a WARN since the kiosk is not running.
func TestDoctorGood(t *testing.T) {
	g := newDoctorGate(t)
	g.write(t, true)
	r, err := doctorRun(t, g.cfgPath)
	if err != nil {
		t.Fatalf("kiosk doctor = %v; report %+v", err, r)
	}
	for check, want := range map[string]string{"configuration": doctor.OK, "screen": doctor.Warn, "thermometer": doctor.OK,
		"scanner": doctor.OK, "journal": doctor.OK, "disk": doctor.OK, "enrollment": doctor.OK, "broker": doctor.OK,
		"sync": doctor.OK, "passes": doctor.Warn} {
		if got := status(r, check); got != want {
			t.Errorf("%s = %q, want %s; report %+v", check, got, want, r)
		}
	}
	for _, l := range r.Lines {
		if l.Status != doctor.OK && (l.FixZH == "" || l.FixEN == "") {
			t.Errorf("%s is %s with no fix in both languages: %+v", l.Check, l.Status, l)
		}
	}
}

// TestDoctorEachCheckFails breaks one thing at a time and finds it named,
// FAIL (or WARN where the kiosk still works), with a non-zero exit on FAIL.
func TestDoctorEachCheckFails(t *testing.T) {
	for _, tc := range []struct {
		name, check, want string
		breakIt           func(t *testing.T, g *doctorGate)
	}{
		{"bad configuration", "configuration", doctor.Fail, func(t *testing.T, g *doctorGate) { g.settings = "[thermometer.limits]\nbody_min_c = 50\n" }},
		{"thermometer unplugged", "thermometer", doctor.Fail, func(t *testing.T, g *doctorGate) { g.therm = filepath.Join(g.dir, "gone") }},
		{"scanner unplugged", "scanner", doctor.Fail, func(t *testing.T, g *doctorGate) { g.scan = filepath.Join(g.dir, "gone") }},
		{"disk nearly full", "disk", doctor.Fail, func(t *testing.T, g *doctorGate) { g.minFree = 1 << 62 }},
		{"not enrolled", "enrollment", doctor.Fail, nil},
		{"broker unreachable", "broker", doctor.Fail, func(t *testing.T, g *doctorGate) { g.broker = "tcp://" + testkit.FreeAddr(t) }},
		{"no keys with passes required", "passes", doctor.Fail, func(t *testing.T, g *doctorGate) { g.requirePass = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newDoctorGate(t)
			if tc.breakIt != nil {
				tc.breakIt(t, g)
			}
			g.write(t, tc.breakIt != nil)
			r, err := doctorRun(t, g.cfgPath)
			if got := status(r, tc.check); got != tc.want {
				t.Errorf("%s = %q, want %s; report %+v", tc.check, got, tc.want, r)
			}
			if err == nil {
				t.Error("kiosk doctor exited 0 with a FAIL")
			}
		})
	}
}

// TestDoctorDamagedJournal: a journal whose pages were overwritten fails
// quick_check.
func TestDoctorDamagedJournal(t *testing.T) {
	g := newDoctorGate(t)
	g.write(t, true)
	path := filepath.Join(g.dataDir, daemon.JournalFile)
	j, err := journal.Open(path, "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	var es []protocol.Entry
	for i := range 200 {
		es = append(es, protocoltest.Entry(protocoltest.Scan(fmt.Sprintf("P-%d-%s", i, strings.Repeat("x", 200)))))
	}
	if _, err := j.AppendMany(context.Background(), es); err != nil {
		t.Fatal(err)
	}
	j.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte(strings.Repeat("\xff", 4096)), 4096*3) // a page in the middle, not the header
	f.Close()
	r, err := doctorRun(t, g.cfgPath)
	if status(r, "journal") != doctor.Fail || err == nil {
		t.Fatalf("journal = %q, exit %v, want FAIL; report %+v", status(r, "journal"), err, r)
	}
}

// TestDoctorJournalVersions: a journal a newer kiosk wrote is a FAIL that
// names both versions and says to reinstall or restore; one an older
// kiosk wrote (it would be migrated at start) a WARN; neither is changed.
func TestDoctorJournalVersions(t *testing.T) {
	for _, tc := range []struct {
		version    int
		want       string
		found, fix string
	}{
		{journal.SchemaVersion + 1, doctor.Fail, fmt.Sprintf("journal.db is at schema version %d but this kiosk knows versions up to %d",
			journal.SchemaVersion+1, journal.SchemaVersion), "restore the backup `kiosk backup` made before the upgrade"},
		{0, doctor.Warn, fmt.Sprintf("schema version 0, this kiosk knows %d", journal.SchemaVersion), "take a `kiosk backup` first"},
	} {
		t.Run(fmt.Sprint(tc.version), func(t *testing.T) {
			g := newDoctorGate(t)
			g.write(t, true)
			path := filepath.Join(g.dataDir, daemon.JournalFile)
			storeversiontest.SetVersion(t, path, tc.version)
			r, _ := doctorRun(t, g.cfgPath)
			l, _ := r.Find("journal")
			if l.Status != tc.want || !strings.Contains(l.Found, tc.found) || !strings.Contains(l.FixEN, tc.fix) || l.FixZH == "" {
				t.Errorf("journal at version %d = %+v; want %s saying %q, fix %q", tc.version, l, tc.want, tc.found, tc.fix)
			}
			if v := storeversiontest.Version(t, path); v != tc.version {
				t.Errorf("kiosk doctor moved the journal from version %d to %d", tc.version, v)
			}
		})
	}
}

// TestDoctorUnsyncedWarns: entries the hub never acknowledged are a WARN.
func TestDoctorUnsyncedWarns(t *testing.T) {
	g := newDoctorGate(t)
	g.write(t, true)
	j, err := journal.Open(filepath.Join(g.dataDir, daemon.JournalFile), "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append(context.Background(), protocoltest.Entry(protocoltest.Scan("A-1"))); err != nil {
		t.Fatal(err)
	}
	j.Close()
	r, _ := doctorRun(t, g.cfgPath)
	if status(r, "sync") != doctor.Warn {
		t.Fatalf("sync = %q, want WARN; report %+v", status(r, "sync"), r)
	}
}

// TestDoctorBrokerTLSNotVerified: a broker whose certificate is not signed
// by the CA the kiosk enrolled with is a FAIL that says TLS.
func TestDoctorBrokerTLSNotVerified(t *testing.T) {
	impostor := enrollmenttest.NewCA(t, "another CA")
	ln := tls.NewListener(testkit.Listen(t), &tls.Config{Certificates: []tls.Certificate{impostor.Server(t, nil, "127.0.0.1")}})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	g := newDoctorGate(t)
	g.broker = "tls://" + ln.Addr().String()
	g.write(t, true)
	r, err := doctorRun(t, g.cfgPath)
	if l, _ := r.Find("broker"); l.Status != doctor.Fail || !strings.Contains(l.Found, "TLS not verified") || err == nil {
		t.Fatalf("broker = %+v, exit %v; want FAIL saying TLS not verified", l, err)
	}
}

// TestDoctorBrokerRefusesLogin: a broker that does not know the kiosk's
// login is a FAIL that says so.
func TestDoctorBrokerRefusesLogin(t *testing.T) {
	srv := mochimqtt.New(&mochimqtt.Options{Logger: slog.New(slog.DiscardHandler)})
	if err := srv.AddHook(new(auth.Hook), &auth.Options{Ledger: &auth.Ledger{
		Auth: auth.AuthRules{{Username: "someone-else", Password: "x", Allow: true}}}}); err != nil {
		t.Fatal(err)
	}
	ln := testkit.Listen(t)
	mln := mochi.Listen(ln)
	if err := srv.AddListener(listeners.NewNet("test", mln)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mochi.Close(srv, mln) })
	g := newDoctorGate(t)
	g.broker = testkit.URL(ln)
	g.write(t, true)
	r, err := doctorRun(t, g.cfgPath)
	if l, _ := r.Find("broker"); l.Status != doctor.Fail || !strings.Contains(l.Found, "refused the kiosk's login") || err == nil {
		t.Fatalf("broker = %+v, exit %v; want FAIL saying the login was refused", l, err)
	}
}

// TestDoctorBesideRunningKiosk: with the kiosk running, the screen
// answers, and the devices and the link are read from it (the devices
// are the kiosk's, opened exclusively).
func TestDoctorBesideRunningKiosk(t *testing.T) {
	g := newDoctorGate(t)
	g.write(t, true)
	cfg, err := loadConfig(g.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.Open(cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		d.Close()
	}()
	testkit.EventuallyNoError(t, "the kiosk to be ready", func() error { return d.Ready(ctx) })
	var r doctor.Report
	testkit.Eventually(t, "the broker line OK", func() bool {
		r, _ = doctorRun(t, g.cfgPath)
		return status(r, "broker") == doctor.OK
	})
	for _, check := range []string{"screen", "thermometer", "scanner", "broker"} {
		if got := status(r, check); got != doctor.OK {
			t.Errorf("%s = %q, want OK; report %+v", check, got, r)
		}
	}
	if l, _ := r.Find("broker"); !strings.Contains(l.Found, "running kiosk") {
		t.Errorf("broker = %+v, want it read from the running kiosk", l)
	}
}

// TestRunLogFormat: kiosk run refuses an unknown --log-format before
// opening anything, naming the accepted ones.
func TestRunLogFormat(t *testing.T) {
	g := newDoctorGate(t)
	g.write(t, false)
	if _, err := runKiosk(t, "run", "--config", g.cfgPath, "--log-format", "xml"); err == nil || !strings.Contains(err.Error(), "auto|json|text") {
		t.Fatalf("kiosk run --log-format xml = %v, want an error naming auto|json|text", err)
	}
}

// TestDoctorPassesAge: the keys and status list in use are reported with
// their age; a list older than passes.max_age is a WARN.
func TestDoctorPassesAge(t *testing.T) {
	g := newDoctorGate(t)
	g.write(t, true)
	issued := time.Now().Add(-72 * time.Hour)
	keys, err := protocol.EncodeKeySet(protocol.KeySet{Version: 3, Issued: issued, Keys: []protocol.PublicKey{}})
	if err != nil {
		t.Fatal(err)
	}
	list, err := protocol.EncodeStatusList(protocol.StatusList{Site: "huamu-1", Version: 4, Issued: issued, Entries: []protocol.StatusEntry{}})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(g.dataDir, "keys.json"), keys, 0o644)
	os.WriteFile(filepath.Join(g.dataDir, "status-list.json"), list, 0o644)
	r, _ := doctorRun(t, g.cfgPath)
	l, _ := r.Find("passes")
	if l.Status != doctor.Warn || !strings.Contains(l.Found, "keys version 3 (issued 72h0m0s ago)") || !strings.Contains(l.Found, "status list version 4 (issued 72h0m0s ago), stale true") {
		t.Fatalf("passes = %+v, want WARN with both versions, their age, and stale", l)
	}
}
