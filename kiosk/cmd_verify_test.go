package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestVerifyCommand runs `kiosk verify` over the shared pass vectors with
// their key set and status list in a kiosk's data folder.
func TestVerifyCommand(t *testing.T) {
	raw, err := os.ReadFile("../protocol/testdata/passes/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Now        time.Time       `json:"now"`
		KeySet     json.RawMessage `json:"keyset"`
		StatusList json.RawMessage `json:"status_list"`
		Cases      []struct {
			Name, Text, Want string
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kiosk.toml")
	os.WriteFile(cfg, []byte("site = \"huamu-1\"\ndata_dir = \"data\"\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "data"), 0o755)
	os.WriteFile(filepath.Join(dir, "data", "keys.json"), v.KeySet, 0o644)
	os.WriteFile(filepath.Join(dir, "data", "status-list.json"), v.StatusList, 0o644)
	for _, c := range v.Cases {
		if c.Text == "" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			cmd := newVerifyCmd(func() time.Time { return v.Now })
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs([]string{"--config", cfg, "--json", c.Text})
			err := cmd.Execute()
			if (err == nil) != (c.Want == "valid") {
				t.Errorf("kiosk verify %s: error %v, want verdict %s", c.Name, err, c.Want)
			}
			var rep verifyReport
			if jerr := json.Unmarshal(out.Bytes(), &rep); jerr != nil {
				t.Fatalf("output is not JSON: %v\n%s", jerr, out.String())
			}
			if string(rep.Verdict) != c.Want || rep.Say == "" {
				t.Errorf("verdict %s, say %q; want %s", rep.Verdict, rep.Say, c.Want)
			}
		})
	}
	cmd := newVerifyCmd(func() time.Time { return v.Now.Add(48 * time.Hour) })
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--config", cfg, v.Cases[0].Text})
	if err := cmd.Execute(); err != nil || !strings.Contains(out.String(), "stale true") {
		t.Errorf("two days later: %v\n%s", err, out.String())
	}
}
