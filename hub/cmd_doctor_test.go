package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/internal/doctor"
	"github.com/gatepost/gatepost/internal/storeversion/storeversiontest"
	"github.com/gatepost/gatepost/internal/testkit"
)

// hubDoctorRun runs `hub doctor --json` with args and returns the report.
func hubDoctorRun(t *testing.T, args ...string) (doctor.Report, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(t, t.Context(), &out, append([]string{"doctor", "--json"}, args...)...)
	var r doctor.Report
	if jerr := json.Unmarshal(out.Bytes(), &r); jerr != nil {
		t.Fatalf("hub doctor --json printed %q: %v", out.String(), jerr)
	}
	return r, err
}

func hubStatus(r doctor.Report, check string) string {
	l, _ := r.Find(check)
	return l.Status
}

// TestHubDoctorGood: beside a running hub with TLS, every check is OK and
// the exit is 0.
func TestHubDoctorGood(t *testing.T) {
	dir := t.TempDir()
	if err := run(t, t.Context(), &bytes.Buffer{}, "tls", "init", "--data", dir, "--name", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	mqtt := testkit.FreeAddr(t)
	out := make(lines, 4)
	done := make(chan error, 1)
	go func() {
		done <- run(t, ctx, out, "serve", "--data", dir, "--mqtt-listen", mqtt, "--mqtts-listen", "off",
			"--enroll-listen", "off", "--http-listen", "127.0.0.1:0")
	}()
	defer func() {
		cancel()
		<-done
	}()
	select {
	case <-out:
	case err := <-done:
		t.Fatalf("serve returned before ready: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve not ready within 10s")
	}
	r, err := hubDoctorRun(t, "--data", dir, "--broker", "tcp://"+mqtt, "--min-free-bytes", "1")
	if err != nil {
		t.Errorf("hub doctor = %v", err)
	}
	for _, check := range []string{"schema", "storage", "broker", "kiosks", "disk", "certificate", "transitions"} {
		if got := hubStatus(r, check); got != doctor.OK {
			t.Errorf("%s = %q, want OK; report %+v", check, got, r)
		}
	}
}

// TestHubDoctorEachCheckFails breaks one thing at a time.
func TestHubDoctorEachCheckFails(t *testing.T) {
	t.Run("no storage", func(t *testing.T) {
		r, err := hubDoctorRun(t, "--data", t.TempDir())
		if hubStatus(r, "storage") != doctor.Fail || err == nil {
			t.Fatalf("storage = %q, exit %v; want FAIL", hubStatus(r, "storage"), err)
		}
	})
	// The rest on a data folder with entries from two kiosks heard last
	// in February 2026, long before now.
	seeded := func(t *testing.T) string {
		dir := t.TempDir()
		seed(t, dir)
		return dir
	}
	t.Run("broker unreachable", func(t *testing.T) {
		r, err := hubDoctorRun(t, "--data", seeded(t), "--broker", "tcp://"+testkit.FreeAddr(t))
		if hubStatus(r, "broker") != doctor.Fail || err == nil {
			t.Fatalf("broker = %q, exit %v; want FAIL", hubStatus(r, "broker"), err)
		}
	})
	t.Run("kiosks silent", func(t *testing.T) {
		r, _ := hubDoctorRun(t, "--data", seeded(t), "--silent", "24h")
		if l, _ := r.Find("kiosks"); l.Status != doctor.Warn || !strings.Contains(l.Found, "huamu-1/gate-1") {
			t.Fatalf("kiosks = %+v, want WARN naming huamu-1/gate-1", l)
		}
	})
	t.Run("disk", func(t *testing.T) {
		r, err := hubDoctorRun(t, "--data", seeded(t), "--min-free-bytes", "4611686018427387904")
		if hubStatus(r, "disk") != doctor.Fail || err == nil {
			t.Fatalf("disk = %q, exit %v; want FAIL", hubStatus(r, "disk"), err)
		}
	})
	t.Run("a store from a newer hub", func(t *testing.T) {
		dir := seeded(t)
		console := filepath.Join(dir, operators.FileName)
		newer := operators.SchemaVersion() + 1
		storeversiontest.Exec(t, console, `CREATE TABLE users (name TEXT)`)
		storeversiontest.SetVersion(t, console, newer)
		r, err := hubDoctorRun(t, "--data", dir)
		want := fmt.Sprintf("console.db is at schema version %d but this hub knows versions up to %d", newer, operators.SchemaVersion())
		if l, _ := r.Find("schema"); l.Status != doctor.Fail || !strings.Contains(l.Found, want) || !strings.Contains(l.FixEN, "hub restore") || err == nil {
			t.Fatalf("schema = %+v, exit %v; want FAIL saying %q", l, err, want)
		}
		if v := storeversiontest.Version(t, console); v != newer {
			t.Errorf("hub doctor moved console.db from version %d to %d", newer, v)
		}
		// hub.db too: the storage line says the same.
		storeversiontest.SetVersion(t, filepath.Join(dir, datadir.RecordsFile), 99)
		r, _ = hubDoctorRun(t, "--data", dir)
		if l, _ := r.Find("storage"); l.Status != doctor.Fail || !strings.Contains(l.Found, "hub.db is at schema version 99") || !strings.Contains(l.FixEN, "hub restore") {
			t.Fatalf("storage = %+v; want FAIL naming hub.db's version 99 and how to go back", l)
		}
	})
	t.Run("an old file to merge, then merged", func(t *testing.T) {
		dir := seeded(t)
		o, err := operators.Open(filepath.Join(dir, operators.FileName), nil) // as the build before issue 15 kept it
		if err != nil {
			t.Fatal(err)
		}
		o.Close()
		r, _ := hubDoctorRun(t, "--data", dir)
		if l, _ := r.Find("schema"); l.Status != doctor.Warn || !strings.Contains(l.Found, fmt.Sprintf("merged into hub.db when the hub next opens its data (each kept as NAME.merged): console.db %d", operators.SchemaVersion())) {
			t.Fatalf("schema = %+v; want WARN: console.db at its version, merged when the hub opens its data", l)
		}
		if l, _ := r.Find("storage"); l.Status != doctor.Warn || !strings.Contains(l.Found, "merges console.db") {
			t.Fatalf("storage = %+v; want WARN: hub.db not opened, console.db to merge", l)
		}
		if _, err := os.Stat(filepath.Join(dir, operators.FileName)); err != nil {
			t.Fatalf("hub doctor merged console.db: %v", err)
		}
		s, err := datadir.Dir{Path: dir}.OpenOperators()
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		r, _ = hubDoctorRun(t, "--data", dir)
		if l, _ := r.Find("schema"); l.Status != doctor.OK || !strings.Contains(l.Found, fmt.Sprintf("hub.db console %d", operators.SchemaVersion())) ||
			!strings.Contains(l.Found, "console.db.merged") {
			t.Fatalf("schema = %+v; want OK with the console's version in hub.db and console.db.merged kept", l)
		}
	})
	t.Run("a kiosk register from a newer hub", func(t *testing.T) {
		dir := seeded(t)
		reg := filepath.Join(dir, registry.FileName)
		s, err := registry.OpenFile(t.Context(), reg, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, known, err := registry.Versions(t.Context(), reg)
		if err != nil {
			t.Fatal(err)
		}
		storeversiontest.Exec(t, reg, fmt.Sprintf(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (%d, 1)`, known+1))
		r, err := hubDoctorRun(t, "--data", dir)
		want := fmt.Sprintf("kiosks.db is at schema version %d but this hub knows versions up to %d", known+1, known)
		if l, _ := r.Find("schema"); l.Status != doctor.Fail || !strings.Contains(l.Found, want) || err == nil {
			t.Fatalf("schema = %+v, exit %v; want FAIL saying %q", l, err, want)
		}
	})
	t.Run("a pass store from a newer hub", func(t *testing.T) {
		dir := seeded(t)
		p, err := passes.Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		p.Close()
		path := filepath.Join(dir, passes.DBFile)
		newer := passes.SchemaVersion() + 1
		storeversiontest.SetVersion(t, path, newer)
		r, err := hubDoctorRun(t, "--data", dir)
		want := fmt.Sprintf("passes.db is at schema version %d but this hub knows versions up to %d", newer, passes.SchemaVersion())
		if l, _ := r.Find("schema"); l.Status != doctor.Fail || !strings.Contains(l.Found, want) || err == nil {
			t.Fatalf("schema = %+v, exit %v; want FAIL saying %q", l, err, want)
		}
		if v := storeversiontest.Version(t, path); v != newer {
			t.Errorf("hub doctor moved passes.db from version %d to %d", newer, v)
		}
	})
	t.Run("a store from an older hub", func(t *testing.T) {
		dir := seeded(t)
		// A kiosk register one goose step behind this hub.
		reg := filepath.Join(dir, registry.FileName)
		s, err := registry.OpenFile(t.Context(), reg, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, known, err := registry.Versions(t.Context(), reg)
		if err != nil {
			t.Fatal(err)
		}
		storeversiontest.Exec(t, reg, fmt.Sprintf(`DELETE FROM goose_db_version WHERE version_id = %d`, known))
		r, _ := hubDoctorRun(t, "--data", dir)
		want := fmt.Sprintf("kiosks.db is at schema version %d", known-1)
		if l, _ := r.Find("schema"); l.Status != doctor.Warn || !strings.Contains(l.Found, want) ||
			!strings.Contains(l.FixEN, "hub backup") {
			t.Fatalf("schema = %+v; want WARN saying %q and to back up before serve upgrades it", l, want)
		}
		// An older hub.db is not opened: opening would migrate it.
		hubDB := filepath.Join(dir, datadir.RecordsFile)
		older := records.SchemaVersion() - 1
		storeversiontest.SetVersion(t, hubDB, older)
		r, _ = hubDoctorRun(t, "--data", dir)
		if l, _ := r.Find("storage"); l.Status != doctor.Warn || !strings.Contains(l.Found, "not opened") {
			t.Fatalf("storage = %+v; want WARN: hub.db not opened", l)
		}
		if v := storeversiontest.Version(t, hubDB); v != older {
			t.Errorf("hub doctor migrated hub.db from version %d to %d", older, v)
		}
	})
	t.Run("no certificate", func(t *testing.T) {
		r, _ := hubDoctorRun(t, "--data", seeded(t))
		if hubStatus(r, "certificate") != doctor.Warn {
			t.Fatalf("certificate = %q, want WARN", hubStatus(r, "certificate"))
		}
	})
	t.Run("certificate expired", func(t *testing.T) {
		dir := seeded(t)
		if _, err := pki.Init(dir, pki.Options{Names: []string{"hub.example"}, Now: time.Now().Add(-3 * 365 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		r, err := hubDoctorRun(t, "--data", dir)
		if l, _ := r.Find("certificate"); l.Status != doctor.Fail || !strings.Contains(l.Found, "expired") || err == nil {
			t.Fatalf("certificate = %+v, exit %v; want FAIL saying expired", l, err)
		}
	})
	t.Run("certificate expiring", func(t *testing.T) {
		dir := seeded(t)
		if _, err := pki.Init(dir, pki.Options{Names: []string{"hub.example"}, ServerValidity: 10 * 24 * time.Hour}); err != nil {
			t.Fatal(err)
		}
		r, _ := hubDoctorRun(t, "--data", dir)
		if l, _ := r.Find("certificate"); l.Status != doctor.Warn || !strings.Contains(l.Found, "expires soon") {
			t.Fatalf("certificate = %+v, want WARN saying expires soon", l)
		}
	})
	t.Run("site in transition", func(t *testing.T) {
		dir := seeded(t)
		reg, err := datadir.Dir{Path: dir}.OpenRegistry()
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(48 * time.Hour)
		if err := reg.SetTransition(t.Context(), "huamu-1", deadline); err != nil {
			t.Fatal(err)
		}
		reg.Close()
		r, _ := hubDoctorRun(t, "--data", dir)
		if l, _ := r.Find("transition huamu-1"); l.Status != doctor.Warn || !strings.Contains(l.Found, deadline.Format(time.DateTime)) {
			t.Fatalf("transition = %+v, want WARN with the deadline; report %+v", l, r)
		}
	})
}

// TestServeLogFormat: hub serve refuses an unknown --log-format, naming
// the accepted ones, and with json writes JSON lines.
func TestServeLogFormat(t *testing.T) {
	err := run(t, t.Context(), &bytes.Buffer{}, "serve", "--data", t.TempDir(), "--log-format", "xml")
	if err == nil || !strings.Contains(err.Error(), "auto|json|text") {
		t.Fatalf("hub serve --log-format xml = %v, want an error naming auto|json|text", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var stderr syncBuffer
	cmd := newRootCommand("test", make(lines, 4), &stderr)
	cmd.SetArgs([]string{"serve", "--data", t.TempDir(), "--mqtt-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--log-format", "json"})
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	testkit.Eventually(t, "a JSON log line", func() bool { return strings.Contains(stderr.String(), `"msg":"hub running"`) })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("hub serve = %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		var v map[string]any
		if json.Unmarshal([]byte(line), &v) != nil {
			t.Errorf("not a JSON line: %q", line)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
