package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/need"
	"github.com/gatepost/gatepost/internal/testkit"
)

// TestKioskOnARM64UnderEmulation: the kiosk, cross-built for arm64
// (CGO_ENABLED=0, as for a Raspberry-Pi-class board) and for armv7, runs
// under Debian's qemu-user on this machine: `kiosk init --demo`, a start with
// simulated devices, scans journaled, `kiosk status`. It logs the binary
// sizes, the time from start to ready and the memory in use once idle,
// marked as emulated (docs/benchmarks.md).
func TestKioskOnARM64UnderEmulation(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-builds and emulates; run without -short")
	}
	qemu := need.Program(t, "qemu-aarch64", "qemu-user")
	dir := t.TempDir()
	sizes := map[string]int64{}
	for _, arch := range []struct{ goarch, goarm, name string }{{"arm64", "", "kiosk-arm64"}, {"arm", "7", "kiosk-armv7"}} {
		cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, arch.name), "github.com/gatepost/gatepost/kiosk")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch.goarch, "GOARM="+arch.goarm)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cross-build %s: %v\n%s", arch.name, err, out)
		}
		fi, _ := os.Stat(filepath.Join(dir, arch.name))
		sizes[arch.name] = fi.Size()
	}
	kiosk := filepath.Join(dir, "kiosk-arm64")
	emu := func(args ...string) *exec.Cmd { return exec.Command(qemu, append([]string{kiosk}, args...)...) }

	cfg := filepath.Join(dir, "kiosk.toml")
	if out, err := emu("init", "--demo", "--config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("kiosk init under qemu: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(cfg)
	conf := regexp.MustCompile(`(?m)^data_dir = .*$`).ReplaceAllString(string(b), fmt.Sprintf("data_dir = %q", filepath.Join(dir, "data")))
	conf = regexp.MustCompile(`(?m)^listen = .*$`).ReplaceAllString(conf, `listen = "127.0.0.1:0"`)
	conf = regexp.MustCompile(`(?m)^simulate_every = .*$`).ReplaceAllString(conf, `simulate_every = "300ms"`)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := emu("run", "--config", cfg)
	stdout, _ := cmd.StdoutPipe()
	logPath := filepath.Join(dir, "kiosk.log")
	logf, _ := os.Create(logPath)
	cmd.Stderr = logf
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	ready := make(chan time.Duration, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "kiosk ready") {
				select {
				case ready <- time.Since(began):
				default:
				}
			}
		}
	}()
	var toReady time.Duration
	select {
	case toReady = <-ready:
	case <-done:
		out, _ := os.ReadFile(logPath)
		t.Fatalf("the arm64 kiosk exited under qemu:\n%s", out)
	case <-time.After(60 * time.Second):
		out, _ := os.ReadFile(logPath)
		t.Fatalf("the arm64 kiosk not ready within 60s under qemu:\n%s", out)
	}
	var last string
	testkit.EventuallyState(t, 60*time.Second, "simulated scans journaled by the arm64 kiosk", func() (bool, string) {
		out, err := emu("status", "--json", "--config", cfg).Output()
		last = string(out)
		var st struct {
			LastSeq uint64 `json:"last_seq"`
		}
		return err == nil && json.Unmarshal(out, &st) == nil && st.LastSeq >= 3, last
	})
	rss := "unknown"
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); err == nil {
		if m := regexp.MustCompile(`VmRSS:\s+(\d+ kB)`).FindSubmatch(b); m != nil {
			rss = string(m[1])
		}
	}
	t.Logf("arm64 kiosk %.1f MB, armv7 %.1f MB; under qemu-user (emulated): ready %s after start, resident memory %s (qemu included) with scans going",
		float64(sizes["kiosk-arm64"])/1e6, float64(sizes["kiosk-armv7"])/1e6, toReady.Round(time.Millisecond), rss)
}
