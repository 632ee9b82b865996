package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/protocol"
)

// hubRun runs the hub command with args and returns what it printed.
func hubRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(t, t.Context(), &out, args...)
	return out.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := hubRun(t, args...)
	if err != nil {
		t.Fatalf("hub %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

var printedCode = regexp.MustCompile(`GPE1:\S+`)

func TestTLSAndEnrollCommands(t *testing.T) {
	dir := t.TempDir()
	if _, err := hubRun(t, "kiosks", "enroll", "--data", dir, "--site", "huamu-1", "--kiosk", "gate-1"); err == nil ||
		!strings.Contains(err.Error(), "hub tls init") {
		t.Fatalf("enroll before tls init = %v, want a sentence saying to run hub tls init", err)
	}
	if _, err := hubRun(t, "tls", "show", "--data", dir); err == nil || !strings.Contains(err.Error(), "hub tls init") {
		t.Fatalf("tls show before init = %v", err)
	}
	if _, err := hubRun(t, "tls", "init", "--data", dir); err == nil || !strings.Contains(err.Error(), "--name") {
		t.Fatalf("tls init without --name = %v", err)
	}
	out := mustRun(t, "tls", "init", "--data", dir, "--name", "hub.huamu.local", "--name", "192.168.10.2")
	files, err := pki.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	fp := pki.Fingerprint(files.CA)
	if !strings.Contains(out, fp) || !strings.Contains(out, filepath.Join(dir, "tls")) {
		t.Fatalf("tls init printed\n%s\nwant the CA fingerprint %s and the folder", out, fp)
	}
	if _, err := hubRun(t, "tls", "init", "--data", dir, "--name", "x"); err == nil || !strings.Contains(err.Error(), "renew") {
		t.Fatalf("a second tls init = %v, want refused pointing at renew", err)
	}
	var shown tlsOut
	if err := json.Unmarshal([]byte(mustRun(t, "tls", "show", "--data", dir, "--json")), &shown); err != nil ||
		shown.CAFingerprint != fp || len(shown.Names) != 2 {
		t.Fatalf("tls show --json = %+v, %v", shown, err)
	}
	out = mustRun(t, "tls", "renew", "--data", dir, "--name", "hub.huamu.local", "--name", "192.168.10.3")
	if !strings.Contains(out, fp) || !strings.Contains(out, "192.168.10.3") {
		t.Fatalf("tls renew printed\n%s\nwant the same CA and the new name", out)
	}

	out = mustRun(t, "kiosks", "enroll", "--data", dir, "--site", "huamu-1", "--kiosk", "gate-1")
	code, err := protocol.ParseEnrollCode(printedCode.FindString(out))
	if err != nil || code.Hub != "hub.huamu.local:8443" || code.CA != fp {
		t.Fatalf("enroll printed\n%s\ncode %+v (%v); want hub.huamu.local:8443 and the CA", out, code, err)
	}
	if !strings.Contains(out, "█") || !strings.Contains(out, "kiosk enroll --config kiosk.toml") || !strings.Contains(out, "works once, until") {
		t.Errorf("enroll printed\n%s\nwant a QR, the kiosk's command and the expiry", out)
	}
	var j codeOut
	out = mustRun(t, "kiosks", "enroll", "--data", dir, "--site", "huamu-1", "--kiosk", "gate-2", "--hub", "192.168.10.3:9443", "--ttl", "1h", "--json")
	if err := json.Unmarshal([]byte(out), &j); err != nil || j.Hub != "192.168.10.3:9443" || !strings.HasPrefix(j.Code, "GPE1:192.168.10.3:9443/") ||
		time.Until(j.Expires) > time.Hour || time.Until(j.Expires) < 50*time.Minute {
		t.Fatalf("enroll --json = %+v, %v\n%s", j, err, out)
	}
	for _, bad := range [][]string{
		{"--site", "huamu-1", "--kiosk", "gate-3", "--hub", "evil.example:8443"},
		{"--site", "huamu-2", "--kiosk", "gate-1"},
		{"--site", "huamu-1"},
		{"--site", "huamu-1", "--kiosk", "gate-3", "--ttl", "0s"},
	} {
		if _, err := hubRun(t, append([]string{"kiosks", "enroll", "--data", dir}, bad...)...); err == nil {
			t.Errorf("kiosks enroll %v = nil, want refused", bad)
		}
	}

	// Offline: the sealed file opens with the kiosk's key alone.
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 7
	key := ed25519.NewKeyFromSeed(seed)
	pub := protocol.PublicKeyText(key.Public().(ed25519.PublicKey))
	file := filepath.Join(t.TempDir(), "gate-5.enroll")
	out = mustRun(t, "kiosks", "add", "--data", dir, "--site", "huamu-1", "--kiosk", "gate-5", "--public-key", pub, "--out", file)
	if !strings.Contains(out, "kiosk enroll --config kiosk.toml --file "+file) {
		t.Errorf("add printed\n%s\nwant the kiosk's command", out)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("enrollment file: %v, %v; want 0600", fi, err)
	}
	data, _ := os.ReadFile(file)
	a, err := protocol.OpenEnrollFile(data, key)
	if err != nil || a.Broker != "tls://hub.huamu.local:8883" || a.CA != string(files.CAPEM()) {
		t.Fatalf("opened file = %+v, %v", a, err)
	}
	dl, err := datadir.Dir{Path: dir}.DownlinkKey()
	if err != nil || a.DownlinkKey != protocol.PublicKeyText(dl.Public().(ed25519.PublicKey)) {
		t.Fatalf("the file's downlink key is not the hub's: %v", err)
	}
	if _, err := hubRun(t, "kiosks", "add", "--data", dir, "--site", "huamu-1", "--kiosk", "gate-6", "--public-key", pub, "--out", file); err == nil ||
		!strings.Contains(err.Error(), "exists") {
		t.Fatalf("add over an existing file = %v, want refused", err)
	}
	if again, _ := os.ReadFile(file); !bytes.Equal(again, data) {
		t.Fatal("a refused add changed the existing file")
	}
	bad := filepath.Join(t.TempDir(), "bad.enroll")
	if _, err := hubRun(t, "kiosks", "add", "--data", dir, "--site", "huamu-1", "--kiosk", "gate-6", "--public-key", pub, "--out", bad, "--broker", "http://x"); err == nil {
		t.Fatal("add with an http:// broker = nil")
	}
	if _, err := os.Stat(bad); err == nil {
		t.Fatal("a refused add left its file behind")
	}

	if out := mustRun(t, "kiosks", "enroll", "--data", dir, "--site", "huamu-1", "--kiosk", "gate-5"); !strings.Contains(out, "re-enrolls it") {
		t.Errorf("a code for an enrolled kiosk printed\n%s\nwant a note that it re-enrolls", out)
	}

	// The register, with a retirement and a transition.
	out = mustRun(t, "kiosks", "retire", "--data", dir, "gate-5")
	for _, want := range []string{"huamu-1/gate-5 retired", "closes its broker session within seconds", "refused and counted", "stays at the hub"} {
		if !strings.Contains(out, want) {
			t.Errorf("retire printed\n%s\nwant %q", out, want)
		}
	}
	if out := mustRun(t, "kiosks", "retire", "--data", dir, "gate-5"); !strings.Contains(out, "retired already") {
		t.Errorf("retire twice printed %q", out)
	}
	if _, err := hubRun(t, "kiosks", "retire", "--data", dir, "gate-9"); err == nil || !strings.Contains(err.Error(), "hub kiosks list") {
		t.Errorf("retire of an unknown kiosk = %v", err)
	}
	until := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
	mustRun(t, "kiosks", "transition", "--data", dir, "--site", "huamu-1", "--until", until.Format(time.RFC3339))
	for _, bad := range [][]string{{"--site", "huamu-1"}, {"--site", "huamu-1", "--until", "tomorrow"}, {"--site", "huamu-1", "--until", "2020-01-01T00:00:00Z"},
		{"--until", until.Format(time.RFC3339)}, {"--site", "huamu-1", "--end", "--until", until.Format(time.RFC3339)}} {
		if _, err := hubRun(t, append([]string{"kiosks", "transition", "--data", dir}, bad...)...); err == nil {
			t.Errorf("kiosks transition %v = nil, want refused", bad)
		}
	}
	var list registryList
	if err := json.Unmarshal([]byte(mustRun(t, "kiosks", "list", "--data", dir, "--json")), &list); err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, k := range list.Kiosks {
		states[k.Kiosk] = k.State
		if k.Kiosk == "gate-1" && k.CodeExpires == nil {
			t.Error("pending gate-1 has no code expiry")
		}
		if k.Kiosk == "gate-5" && (k.Fingerprint != protocol.Fingerprint(key.Public().(ed25519.PublicKey)) || k.Retired == nil) {
			t.Errorf("gate-5 = %+v, want its fingerprint and retirement", k)
		}
	}
	if states["gate-1"] != "pending" || states["gate-2"] != "pending" || states["gate-5"] != "retired" || len(states) != 3 {
		t.Errorf("list states = %v", states)
	}
	if len(list.Transitions) != 1 || !list.Transitions[0].Deadline.Equal(until) || !list.Transitions[0].Active {
		t.Errorf("list transitions = %+v", list.Transitions)
	}
	out = mustRun(t, "kiosks", "list", "--data", dir)
	if !strings.Contains(out, "WARNING: site huamu-1 is in transition mode") || !regexp.MustCompile(`gate-5\s+huamu-1\s+retired`).MatchString(out) {
		t.Errorf("list printed\n%s", out)
	}
	mustRun(t, "kiosks", "test-site", "--data", dir, "--site", "demo-1")
	if out := mustRun(t, "kiosks", "list", "--data", dir); !strings.Contains(out, "site demo-1 is a test site") {
		t.Errorf("list does not show the test site:\n%s", out)
	}
	mustRun(t, "kiosks", "test-site", "--data", dir, "--site", "demo-1", "--off")
	mustRun(t, "kiosks", "transition", "--data", dir, "--site", "huamu-1", "--end")
	if out := mustRun(t, "kiosks", "list", "--data", dir); strings.Contains(out, "transition") || strings.Contains(out, "test site") {
		t.Errorf("list after --end still mentions a transition:\n%s", out)
	}
	ops, err := datadir.Dir{Path: dir}.OpenOperators()
	if err != nil {
		t.Fatal(err)
	}
	defer ops.Close()
	lines, _ := ops.AuditLog(t.Context(), 100)
	var actions []string
	for _, l := range lines {
		actions = append(actions, l.Action+" "+l.Detail)
	}
	for _, want := range []string{"kiosk_retire huamu-1/gate-5", "kiosk_add huamu-1/gate-5", "kiosk_code huamu-1/gate-1", "transition_end huamu-1", "tls_init",
		"test_site_on demo-1", "test_site_off demo-1"} {
		if !strings.Contains(strings.Join(actions, "\n"), want) {
			t.Errorf("audit log %q lacks %q", actions, want)
		}
	}
}

func TestAddWithoutTLSSaysSo(t *testing.T) {
	dir := t.TempDir()
	seed := make([]byte, ed25519.SeedSize)
	key := ed25519.NewKeyFromSeed(seed)
	file := filepath.Join(dir, "k.enroll")
	out := mustRun(t, "kiosks", "add", "--data", dir, "--site", "s", "--kiosk", "k",
		"--public-key", protocol.PublicKeyText(key.Public().(ed25519.PublicKey)), "--out", file)
	if !strings.Contains(out, "no TLS") || !strings.Contains(out, "tcp://127.0.0.1:1883") {
		t.Errorf("add without TLS printed\n%s\nwant it to say so", out)
	}
	data, _ := os.ReadFile(file)
	if a, err := protocol.OpenEnrollFile(data, key); err != nil || a.CA != "" || a.Broker != "tcp://127.0.0.1:1883" {
		t.Fatalf("file = %+v, %v", a, err)
	}
	nowhere := filepath.Join(dir, "mistyped")
	for _, args := range [][]string{{"list"}, {"retire", "k"}, {"transition", "--site", "s", "--end"},
		{"add", "--site", "s", "--kiosk", "k2", "--public-key", protocol.PublicKeyText(key.Public().(ed25519.PublicKey)), "--out", filepath.Join(dir, "k2.enroll")}} {
		if _, err := hubRun(t, append(append([]string{"kiosks"}, args...), "--data", nowhere)...); err == nil || !strings.Contains(err.Error(), "no hub data") {
			t.Errorf("kiosks %v in a missing folder = %v, want no hub data", args, err)
		}
	}
	if _, err := os.Stat(nowhere); err == nil {
		t.Error("a command made the mistyped data folder")
	}
	if _, err := hubRun(t, "kiosks", "list", "--data", dir, "--bogus"); err == nil {
		t.Error("an unknown flag was accepted")
	}
}

// `hub kiosks` with no subcommand prints the fleet as it always did.
func TestKiosksStillPrintsTheFleet(t *testing.T) {
	dir := t.TempDir()
	seed(t, dir)
	out := mustRun(t, "kiosks", "--data", dir)
	if !strings.HasPrefix(out, "KIOSK\tSITE\tONLINE") && !regexp.MustCompile(`^KIOSK\s+SITE\s+ONLINE`).MatchString(out) ||
		!strings.Contains(out, "gate-1") || !strings.Contains(out, "gate-2") {
		t.Errorf("hub kiosks printed\n%s", out)
	}
	if _, err := hubRun(t, "kiosks", "--data", dir, "bogus"); err == nil {
		t.Error("hub kiosks bogus = nil, want unknown command")
	}
}
