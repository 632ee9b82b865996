package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// TestPassesCommands walks an operator's day: a key, passes for a
// household and a CSV of units, a revocation, a home observation, the
// printout, the kiosk export and a key rotation.
func TestPassesCommands(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	sh := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(t, ctx, &out, append(args, "--data", dir)...); err != nil {
			t.Fatalf("hub %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	if out := sh("keys", "init"); !strings.Contains(out, "key k1") {
		t.Errorf("keys init printed %q", out)
	}
	if err := run(t, ctx, &bytes.Buffer{}, "keys", "init", "--data", dir); err == nil {
		t.Error("a second keys init succeeded")
	}
	var one []struct {
		ID    string `json:"id"`
		Token string `json:"token"`
		Name  string `json:"name"`
	}
	if err := json.Unmarshal([]byte(sh("passes", "issue", "--site", "huamu-1", "--unit", "3-502", "--name", "王小明", "--until", "2026-12-31", "--json")), &one); err != nil || len(one) != 1 {
		t.Fatalf("issue --json: %v %+v", err, one)
	}
	if one[0].Name != "王*明" || !strings.HasPrefix(one[0].Token, protocol.PassPrefix) {
		t.Errorf("issued %+v", one[0])
	}
	csv := filepath.Join(t.TempDir(), "units.csv")
	os.WriteFile(csv, []byte("unit,name,kind\n3-503,李明,tenant\n,张三丰,volunteer\n"), 0o644)
	if out := sh("passes", "issue", "--site", "huamu-1", "--csv", csv); strings.Count(out, "huamu-1") != 2 || strings.Contains(out, "李明") {
		t.Errorf("issue --csv printed %q", out)
	}
	sh("passes", "revoke", one[0].ID, "--reason", "reported lost")
	out := sh("passes", "list", "--site", "huamu-1")
	if !strings.Contains(out, "revoked (reported lost)") || strings.Count(out, "\n") != 4 {
		t.Errorf("list printed %q", out)
	}
	sh("passes", "status", one[0].ID, "--clear")
	sh("passes", "status", one[0].ID, "--home-observation", "--until", "2099-01-14")
	if out := sh("passes", "list"); !strings.Contains(out, "home_observation until 2099-01-14") {
		t.Errorf("list after home observation printed %q", out)
	}
	for _, bad := range [][]string{
		{"passes", "status", one[0].ID},
		{"passes", "status", one[0].ID, "--home-observation"},
		{"passes", "revoke", "R0000000", "--reason", "x"},
		{"passes", "issue", "--site", "huamu-1", "--unit", "1-1", "--kind", "visitor"},
		{"passes", "issue", "--site", "huamu-1", "--unit", "1-1", "--until", "31/12/2026"},
		{"passes", "print"},
		{"passes", "revoke", one[0].ID, "--reason", " "},
		{"passes", "status", one[0].ID, "--home-observation", "--until", "2020-01-01"},
		{"passes", "issue", "--site", "huamu-1", "--unit", "1-1", "--from", "2026-07-01", "--until", "2026-06-30"},
	} {
		if err := run(t, ctx, &bytes.Buffer{}, append(bad, "--data", dir)...); err == nil {
			t.Errorf("hub %s succeeded", strings.Join(bad, " "))
		}
	}
	printed := filepath.Join(t.TempDir(), "print")
	sh("passes", "print", "--site", "huamu-1", "--out", printed)
	if files, _ := filepath.Glob(filepath.Join(printed, "*.png")); len(files) != 3 {
		t.Errorf("print wrote %d PNGs, want 3", len(files))
	}
	if _, err := os.Stat(filepath.Join(printed, "sheet.html")); err != nil {
		t.Error(err)
	}
	kiosk := filepath.Join(t.TempDir(), "kiosk-data")
	sh("passes", "export-kiosk", "--site", "huamu-1", "--out", kiosk)
	data, _ := os.ReadFile(filepath.Join(kiosk, "status-list.json"))
	if l, err := protocol.DecodeStatusList(data); err != nil || l.Find(one[0].ID) == nil || l.Version < 4 {
		t.Errorf("exported status list %+v, %v", l, err)
	}
	sh("keys", "rotate")
	if out := sh("keys", "list"); !strings.Contains(out, "k2") || !strings.Contains(out, "retired") {
		t.Errorf("keys list printed %q", out)
	}
	sh("keys", "withdraw", "k1")
	if out := sh("keys", "list"); !strings.Contains(out, "WITHDRAWN") {
		t.Errorf("keys list after withdraw printed %q", out)
	}
}

// The days typed on the command line are China Standard Time days, as in
// the console, whatever zone the hub's machine runs in.
func TestPassDaysInChinaTime(t *testing.T) {
	old := time.Local
	time.Local = time.FixedZone("EST", -5*3600)
	defer func() { time.Local = old }()
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(t, t.Context(), &out, "keys", "init", "--data", dir); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(t, t.Context(), &out, "passes", "issue", "--site", "huamu-1", "--unit", "3-502",
		"--from", "2026-12-01", "--until", "2026-12-31", "--json", "--data", dir); err != nil {
		t.Fatal(err)
	}
	var one []struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(out.Bytes(), &one); err != nil || len(one) != 1 {
		t.Fatalf("issue --json: %v %s", err, out.String())
	}
	sp, err := protocol.ParsePass(one[0].Token)
	if err != nil {
		t.Fatal(err)
	}
	cst := time.FixedZone("CST", 8*3600)
	if from := sp.Pass.ValidFrom.In(cst); from.Format(time.DateTime) != "2026-12-01 00:00:00" {
		t.Errorf("valid from %s in China time, want the start of 2026-12-01", from)
	}
	if until := sp.Pass.ValidUntil.In(cst); until.Format(time.DateTime) != "2027-01-01 00:00:00" {
		t.Errorf("valid until %s in China time, want the end of 2026-12-31", until)
	}
}
