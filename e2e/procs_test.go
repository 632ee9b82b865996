package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatepost/gatepost/kiosk/journal"
)

// bin holds the kiosk and hub programs built once for all tests.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gatepost-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, prog := range []string{"kiosk", "hub"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, prog), "github.com/gatepost/gatepost/"+prog)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n", prog, err)
			os.Exit(1)
		}
	}
	bin = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a program started by a test, with its output in a log file.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// start runs a program and waits for the line starting with ready on its
// standard output.
func start(t *testing.T, name, ready string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, strings.Fields(name)[0]), args...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: logPath}
	readyc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), ready) {
				select {
				case readyc <- sc.Text():
				default:
				}
			}
		}
	}()
	go func() { cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() { p.stop(t) })
	select {
	case <-readyc:
	case <-p.done:
		t.Fatalf("%s exited before it was ready:\n%s", name, p.output())
	case <-time.After(20 * time.Second):
		t.Fatalf("%s not ready after 20s:\n%s", name, p.output())
	}
	return p
}

func (p *proc) output() string {
	data, _ := os.ReadFile(p.log)
	return string(data)
}

// kill ends the process at once, as a power cut or OOM kill would.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop asks the process to stop and waits for it.
func (p *proc) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Errorf("%s did not stop within 10s of SIGTERM; killing it", p.name)
		p.kill(t)
	}
}

func runJSON(t *testing.T, v any, prog string, args ...string) {
	t.Helper()
	out, err := exec.Command(filepath.Join(bin, prog), args...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %v: %v\n%s", prog, args, err, stderr)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("%s %v printed %q: %v", prog, args, out, err)
	}
}

func kioskStatus(t *testing.T, cfgPath string) journal.Status {
	t.Helper()
	var st journal.Status
	runJSON(t, &st, "kiosk", "status", "--json", "--config", cfgPath)
	return st
}

// hubEntry is what `hub entries --json` prints for each entry.
type hubEntry struct {
	Kiosk string `json:"kiosk"`
	Seq   uint64 `json:"seq"`
	ID    string `json:"id"`
	Scan  string `json:"scan"`
	Site  string `json:"site"`
	// Decision is what the gate decided (allow, alert, ...).
	Decision string `json:"decision"`
	// Alert marks an entry the kiosk reported as urgent whatever its
	// decision (soft fever mode).
	Alert bool `json:"alert"`
}

func hubEntries(t *testing.T, dataDir string) []hubEntry {
	t.Helper()
	var es []hubEntry
	runJSON(t, &es, "hub", "entries", "--json", "--data", dataDir, "--limit", "1000000")
	return es
}
