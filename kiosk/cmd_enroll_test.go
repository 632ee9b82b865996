package main

import (
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/kiosk/daemon"
	"github.com/gatepost/gatepost/kiosk/enrollment"
	"github.com/gatepost/gatepost/kiosk/enrollment/enrollmenttest"
	"github.com/gatepost/gatepost/kiosk/identity"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
)

// enrollConfig writes a kiosk configuration for huamu-1/gate-1 and
// returns its path and data folder.
func enrollConfig(t *testing.T) (cfgPath, dataDir string) {
	t.Helper()
	dir := t.TempDir()
	cfgPath = filepath.Join(dir, "kiosk.toml")
	if err := os.WriteFile(cfgPath, []byte("site = \"huamu-1\"\nkiosk = \"gate-1\"\ndata_dir = \"data\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfgPath, filepath.Join(dir, "data")
}

// kiosk enroll CODE: the kiosk key is made, the hub is reached through
// the pinned CA, and what it answered is saved and shown.
func TestEnrollWithACode(t *testing.T) {
	t.Parallel()
	cfgPath, dataDir := enrollConfig(t)
	ca := enrollmenttest.NewCA(t, "hub CA")
	hub := enrollmenttest.StartHub(t, ca.Server(t, nil, "127.0.0.1"), ca)
	code := hub.Code(ca.Fingerprint()).String()
	// A config stored before enrollment, unchecked (a forgery's v501).
	os.MkdirAll(dataDir, 0o700)
	j, err := journal.Open(filepath.Join(dataDir, "journal.db"), "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.SaveDownlink(t.Context(), protocol.Downlink{Kind: protocol.DownlinkConfig, Site: "huamu-1", Version: 501,
		Issued: time.Now(), Payload: json.RawMessage(`{"fever_c":40}`)}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	if text, err := runKiosk(t, "status", "--config", cfgPath); err != nil || !strings.Contains(text, daemon.NotEnrolled()) ||
		!strings.Contains(text, "enrolled   no (kiosk enroll)") {
		t.Errorf("kiosk status before enrolling = %v\n%s\nwant the warning in both languages", err, text)
	}

	text, err := runKiosk(t, "enroll", "--config", cfgPath, code)
	if err != nil {
		t.Fatalf("kiosk enroll: %v\n%s", err, text)
	}
	dl := protocol.Fingerprint(enrollmenttest.DownlinkKey().Public().(ed25519.PublicKey))
	for _, want := range []string{"enrolled: kiosk gate-1 of site huamu-1, by code", hub.Broker, dl, ca.Fingerprint(), "forgot 1 downlinks"} {
		if !strings.Contains(text, want) {
			t.Errorf("kiosk enroll printed:\n%s\nwant %q in it", text, want)
		}
	}
	a, enrolled, err := enrollment.Load(dataDir)
	if err != nil || !enrolled || a.Broker != hub.Broker || a.CA != ca.PEM() {
		t.Fatalf("saved enrollment = %+v, %v, %v", a, enrolled, err)
	}
	key, err := identity.Load(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if reqs := hub.Requests(); len(reqs) != 1 || reqs[0].PublicKey != protocol.PublicKeyText(key.Public) {
		t.Fatalf("the hub received %+v, want the kiosk key's request", reqs)
	}
	if strings.Contains(text, a.Secret) {
		t.Fatal("kiosk enroll printed the broker secret")
	}
	j, err = journal.OpenReadOnly(filepath.Join(dataDir, "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	if vs, err := j.Downlinks(t.Context()); len(vs) != 0 || err != nil {
		t.Errorf("downlinks after enrolling = %v, %v; want the unchecked v501 forgotten", vs, err)
	}
	j.Close()

	if text, err := runKiosk(t, "status", "--config", cfgPath); err != nil || strings.Contains(text, daemon.NotEnrolled()) ||
		!strings.Contains(text, "enrolled   yes, as huamu-1/gate-1 at "+hub.Broker) {
		t.Errorf("kiosk status after enrolling = %v\n%s", err, text)
	}

	// Again, with --json: it says the earlier enrollment was replaced.
	var out enrollOut
	text, err = runKiosk(t, "enroll", "--config", cfgPath, "--json", code)
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("kiosk enroll --json printed %q: %v", text, err)
	}
	if err != nil || !out.Replaced || out.Forgotten != 0 || out.CA != ca.Fingerprint() || out.DownlinkKey != dl || out.Via != "code" || out.KioskKey != key.Fingerprint() {
		t.Fatalf("kiosk enroll --json = %+v, %v", out, err)
	}

	// A code the hub refuses: its sentence is shown, the enrollment kept.
	hub.Secret = protocol.NewEnrollSecret()
	text, err = runKiosk(t, "enroll", "--config", cfgPath, code)
	if err == nil || !strings.Contains(err.Error(), "This enrollment code is unknown or was used already.") {
		t.Fatalf("kiosk enroll with a used code = %v\n%s", err, text)
	}
	if got, _, _ := enrollment.Load(dataDir); got != a {
		t.Fatal("a refused enrollment changed the saved one")
	}
}

// kiosk enroll --file: the offline path opens a file sealed to this
// kiosk's key, and refuses one for another kiosk or another key.
func TestEnrollWithAFile(t *testing.T) {
	t.Parallel()
	cfgPath, dataDir := enrollConfig(t)
	key, _, err := identity.LoadOrCreate(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	ca := enrollmenttest.NewCA(t, "hub CA")
	seal := func(a protocol.EnrollAnswer, pub []byte) string {
		t.Helper()
		b, err := protocol.SealEnrollAnswer(a, pub)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "gate.enroll")
		os.WriteFile(path, b, 0o600)
		return path
	}
	other, _, _ := identity.LoadOrCreate(t.TempDir())
	for name, tc := range map[string]struct{ file, want string }{
		"another kiosk": {seal(enrollmenttest.Answer("huamu-1", "gate-2", "tls://hub:8883", ca), key.Public), "is for huamu-1/gate-2"},
		"another key":   {seal(enrollmenttest.Answer("huamu-1", "gate-1", "tls://hub:8883", ca), other.Public), "another kiosk key"},
		"not a file":    {cfgPath, "cannot be opened"},
	} {
		if text, err := runKiosk(t, "enroll", "--config", cfgPath, "--file", tc.file); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: kiosk enroll --file = %v\n%s\nwant an error saying %q", name, err, text, tc.want)
		}
	}
	if _, enrolled, _ := enrollment.Load(dataDir); enrolled {
		t.Fatal("a refused file was saved")
	}
	want := enrollmenttest.Answer("huamu-1", "gate-1", "tls://hub:8883", ca)
	text, err := runKiosk(t, "enroll", "--config", cfgPath, "--json", "--file", seal(want, key.Public))
	var out enrollOut
	if err != nil || json.Unmarshal([]byte(text), &out) != nil || out.Via != "file" || out.Replaced || out.CA != ca.Fingerprint() {
		t.Fatalf("kiosk enroll --file = %+v, %v\n%s", out, err, text)
	}
	if got, _, err := enrollment.Load(dataDir); err != nil || got != want {
		t.Fatalf("saved = %+v, %v; want %+v", got, err, want)
	}
	if _, err := runKiosk(t, "enroll", "--config", cfgPath); err == nil {
		t.Error("kiosk enroll with neither a code nor a file succeeded")
	}
}
