package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/testkit"
)

var urlPattern = regexp.MustCompile(`http://[0-9.]+:[0-9]+/`)

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// TestDemo runs the README's first command as a user would (on free
// ports), and checks that both kiosks' entries reach the operators' page,
// the guard screens show them, and Ctrl-C stops it cleanly.
func TestDemo(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "demo")
	if out, err := exec.Command("go", "build", "-o", exe, "github.com/gatepost/gatepost/demo").CombinedOutput(); err != nil {
		t.Fatalf("build demo: %v\n%s", err, out)
	}
	data := t.TempDir()
	cmd := exec.Command(exe, "-data", data, "-every", "150ms",
		"-mqtt-port", "0", "-mqtts-port", "0", "-enroll-port", "0", "-console-port", "0", "-screen-port", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "demo.log")
	logf, _ := os.Create(logPath)
	defer logf.Close()
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	defer cmd.Process.Kill()

	var console string
	var screens []string
	for console == "" || len(screens) < 2 {
		select {
		case line, ok := <-lines:
			if !ok {
				log, _ := os.ReadFile(logPath)
				t.Fatalf("demo exited before printing its addresses:\n%s", log)
			}
			url := urlPattern.FindString(line)
			switch {
			case strings.Contains(line, "operators' page"):
				console = url
			case strings.Contains(line, "guard screen"):
				screens = append(screens, url)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("demo printed no addresses within 20s (console %q, screens %v)", console, screens)
		}
	}

	testkit.EventuallyState(t, 20*time.Second, "entries from both kiosks at the hub", func() (bool, string) {
		var es []hubEntry
		runJSON(t, &es, "hub", "entries", "--json", "--data", filepath.Join(data, "hub"))
		from := map[string]int{}
		for _, e := range es {
			from[e.Kiosk]++
		}
		return from["gate-1"] > 0 && from["gate-2"] > 0, fmt.Sprint(from)
	})
	for _, s := range screens {
		var st struct {
			Online bool `json:"online"`
			Last   *struct {
				Seq uint64 `json:"seq"`
			} `json:"last"`
		}
		testkit.EventuallyState(t, 10*time.Second, "guard screen "+s+" shows an entry and the link up", func() (bool, string) {
			if err := getJSON(s+"api/state", &st); err != nil {
				return false, err.Error()
			}
			return st.Online && st.Last != nil && st.Last.Seq > 0, fmt.Sprintf("%+v", st)
		})
	}

	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-exited:
		if err != nil {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("demo exited with %v after Ctrl-C:\n%s", err, log)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("demo did not stop within 15s of Ctrl-C")
	}
}
