package sdnotify

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The systemd units in packaging/systemd are this package's other half:
// Type=notify and WatchdogSec are what make the kiosk's and the hub's
// READY=1 and WATCHDOG=1 matter. They are checked here.

const unitsDir = "../../packaging/systemd"

// units are the units and the program each one starts.
var units = map[string]string{
	"gatepost-kiosk.service": "/usr/bin/kiosk",
	"gatepost-hub.service":   "/usr/bin/hub",
}

// directives reads a unit's Key=Value lines, every value of each key.
func directives(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			out[k] = append(out[k], v)
		}
	}
	return out
}

// TestUnitsHaveWhatOperationsPromises: each unit holds the lines
// docs/operations.md explains; deleting one fails here, not on a gate.
func TestUnitsHaveWhatOperationsPromises(t *testing.T) {
	common := map[string]string{
		"Type": "notify", "NotifyAccess": "main", "Restart": "on-failure", "User": "gatepost",
		"ProtectSystem": "strict", "NoNewPrivileges": "yes", "PrivateTmp": "yes", "ProtectHome": "yes",
		"CapabilityBoundingSet": "",
	}
	for unit := range units {
		d := directives(t, filepath.Join(unitsDir, unit))
		for k, want := range common {
			if got := d[k]; len(got) != 1 || got[0] != want {
				t.Errorf("%s: %s = %q, want %q", unit, k, got, want)
			}
		}
		if x := d["ExecStart"]; len(x) != 1 || !strings.HasSuffix(x[0], "--log-format json") {
			t.Errorf("%s: ExecStart = %q, want JSON logs for the journal", unit, x)
		}
		if len(d["WatchdogSec"]) != 1 {
			t.Errorf("%s: no WatchdogSec", unit)
		}
		if sd := d["StateDirectory"]; len(sd) != 1 || !strings.HasPrefix(sd[0], "gatepost") {
			t.Errorf("%s: StateDirectory = %q, want gatepost", unit, sd)
		}
	}
	k := directives(t, filepath.Join(unitsDir, "gatepost-kiosk.service"))
	if got := k["DevicePolicy"]; !slices.Equal(got, []string{"closed"}) {
		t.Errorf("kiosk: DevicePolicy = %q, want closed", got)
	}
	// Serial ports and input devices only: a scanner that types (evdev)
	// is read, never written.
	for _, a := range k["DeviceAllow"] {
		if !strings.HasPrefix(a, "char-tty") && a != "char-input r" {
			t.Errorf("kiosk: DeviceAllow=%s: the kiosk needs serial and input devices only", a)
		}
	}
	h := directives(t, filepath.Join(unitsDir, "gatepost-hub.service"))
	if got := h["PrivateDevices"]; !slices.Equal(got, []string{"yes"}) {
		t.Errorf("hub: PrivateDevices = %q, want yes (the hub reads no device)", got)
	}
}

// TestUnitsVerify runs systemd-analyze verify on the units (with their
// programs replaced by a stand-in, since verify wants ExecStart to
// exist) and holds their exposure score under 2.5 of 10. It skips
// without systemd-analyze unless CI is set; test.sh installs it.
func TestUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is missing; CI must have it (apt-get install systemd)")
		}
		t.Skip("systemd-analyze is missing: apt-get install systemd to verify the units")
	}
	dir := t.TempDir()
	var paths []string
	for unit, program := range units {
		stand := filepath.Join(dir, filepath.Base(program))
		if err := os.WriteFile(stand, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		text, err := os.ReadFile(filepath.Join(unitsDir, unit))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, unit)
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(text), program+" ", stand+" ")), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	// verify exits 0 on an unknown key, with a warning: any output fails.
	out, err := exec.Command(analyze, append([]string{"verify", "--man=no"}, paths...)...).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, path := range paths {
		out, err := exec.Command(analyze, "security", "--offline=true", "--threshold=25", "--no-pager", path).CombinedOutput()
		if err != nil {
			t.Errorf("systemd-analyze security %s: %v (exposure over 2.5)\n%s", filepath.Base(path), err, out)
		}
	}
}
