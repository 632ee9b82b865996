package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/protocol"
)

// TestIdentityCommand: the first call makes the key, later calls show the
// same one, and --qr draws it.
func TestIdentityCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kiosk.toml")
	os.WriteFile(cfg, []byte("site = \"huamu-1\"\nkiosk = \"gate-1\"\ndata_dir = \"data\"\n"), 0o644)
	run := func(args ...string) string {
		t.Helper()
		cmd := newIdentityCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(append([]string{"--config", cfg}, args...))
		if err := cmd.Execute(); err != nil {
			t.Fatalf("kiosk identity %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	var first, second identityOut
	json.Unmarshal([]byte(run("--json")), &first)
	json.Unmarshal([]byte(run("--json")), &second)
	if !first.Created || second.Created || first.PublicKey != second.PublicKey || first.Kiosk != "gate-1" || first.Site != "huamu-1" {
		t.Fatalf("two calls: %+v then %+v; want one key made once, for huamu-1/gate-1", first, second)
	}
	pub, err := protocol.ParsePublicKeyText(first.PublicKey)
	if err != nil || protocol.Fingerprint(pub) != first.Fingerprint {
		t.Fatalf("printed key %q does not match its fingerprint %q: %v", first.PublicKey, first.Fingerprint, err)
	}
	if fi, err := os.Stat(first.KeyFile); err != nil || fi.Mode().Perm() != 0o600 || filepath.Dir(first.KeyFile) != filepath.Join(dir, "data") {
		t.Fatalf("key file %s: %v, %v", first.KeyFile, fi, err)
	}
	text := run("--qr")
	if !strings.Contains(text, first.Fingerprint) || !strings.Contains(text, "█") {
		t.Fatalf("kiosk identity --qr printed:\n%s", text)
	}
	if strings.Contains(text, "PRIVATE") {
		t.Fatal("the private key was printed")
	}
}
