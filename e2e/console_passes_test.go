package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/protocol"
)

// addUser adds a console user with the real `hub users add`.
func addUser(t *testing.T, dataDir, password string, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "hub"), append([]string{"users", "add", "--data", dataDir, "--password-stdin"}, args...)...)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hub users add %v: %v\n%s", args, err, out)
	}
}

// opsSession is a signed-in console session over plain HTTP.
type opsSession struct {
	t    *testing.T
	base string
	http *http.Client
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`)

func signInConsole(t *testing.T, base, user, password string) *opsSession {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &opsSession{t: t, base: base, http: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	code, _ := s.post("/ops/signin", url.Values{"csrf": {s.csrf("/ops/signin")}, "user": {user}, "password": {password}})
	if code != http.StatusSeeOther {
		t.Fatalf("sign in as %s = %d", user, code)
	}
	return s
}

func (s *opsSession) get(path string) (int, string) {
	s.t.Helper()
	resp, err := s.http.Get(s.base + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (s *opsSession) post(path string, form url.Values) (int, string) {
	s.t.Helper()
	resp, err := s.http.PostForm(s.base+path, form)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (s *opsSession) csrf(path string) string {
	s.t.Helper()
	code, body := s.get(path)
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		s.t.Fatalf("GET %s = %d with no csrf field", path, code)
	}
	return m[1]
}

// TestConsoleRevocationReachesKiosk: a pass revoked by an admin on the
// console's page is turned back at a running kiosk within seconds. The
// hub polls its pass store only every 10 minutes here, so only the
// console's nudge to the pass feed can get it there in time.
func TestConsoleRevocationReachesKiosk(t *testing.T) {
	hubData := t.TempDir()
	if _, err := runProgram("hub", "keys", "init", "--data", hubData); err != nil {
		t.Fatal(err)
	}
	var issued []struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	runJSON(t, &issued, "hub", "passes", "issue", "--json", "--data", hubData, "--site", "site-1", "--unit", "3-502", "--name", "王小明")
	addUser(t, hubData, "e2e admin password", "admin", "--admin")
	mqttAddr, httpAddr := freeAddr(t), freeAddr(t)
	start(t, "hub", "hub ready", "serve", "--data", hubData, "--mqtt-listen", mqttAddr,
		"--http-listen", httpAddr, "--passes-every", "10m")

	therm, scan := simDevices(t, sim.ThermometerOptions{})
	cfgPath, dataDir := kioskConfig(t, "tcp://"+mqttAddr, therm, scan, "", "duplicate_window = \"0s\"\n")
	start(t, "kiosk", "kiosk ready", "run", "--config", cfgPath)
	var st struct {
		Downlink map[string]uint64 `json:"downlink"`
	}
	eventually(t, 20*time.Second, "kiosk holding the hub's keys and status list", func() (bool, string) {
		runJSON(t, &st, "kiosk", "status", "--json", "--config", cfgPath)
		return st.Downlink["keys"] > 0 && st.Downlink["status_list"] > 0, fmt.Sprintf("%v", st.Downlink)
	})

	decide := func() protocol.Entry {
		t.Helper()
		before := len(journaledEntries(t, dataDir))
		if err := scan.Send(issued[0].Token); err != nil {
			t.Fatal(err)
		}
		var last protocol.Entry
		eventually(t, 10*time.Second, "the scan journaled", func() (bool, string) {
			es := journaledEntries(t, dataDir)
			if len(es) <= before {
				return false, fmt.Sprintf("%d entries", len(es))
			}
			last = es[len(es)-1]
			return true, ""
		})
		return last
	}
	if e := decide(); e.Decision != protocol.DecisionAllow || !slices.Contains(e.Reasons, "pass_valid") {
		t.Fatalf("before revoking: %s %v", e.Decision, e.Reasons)
	}

	admin := signInConsole(t, "http://"+httpAddr, "admin", "e2e admin password")
	page := "/ops/passes/" + issued[0].ID
	revoked := time.Now()
	if code, body := admin.post(page+"/revoke", url.Values{"csrf": {admin.csrf(page)}, "reason": {"reported lost"}}); code != http.StatusSeeOther {
		t.Fatalf("revoke on the console = %d %.300q", code, body)
	}
	eventually(t, 10*time.Second, "a scan turned back as revoked", func() (bool, string) {
		e := decide()
		return e.Decision == protocol.DecisionAlert && slices.Contains(e.Reasons, "pass_revoked"), fmt.Sprintf("%s %v", e.Decision, e.Reasons)
	})
	t.Logf("revoked on the console; turned back at the kiosk %s later", time.Since(revoked).Round(10*time.Millisecond))
	if _, body := admin.get("/ops/audit"); !strings.Contains(body, "pass_revoke") || !strings.Contains(body, issued[0].ID+" site-1 unit 3-502: reported lost") {
		t.Errorf("the audit log lacks the revocation")
	}
}
