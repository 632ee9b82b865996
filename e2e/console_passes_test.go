package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/gatepost/gatepost/internal/testkit"
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
	mqttAddr, httpAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	start(t, "hub", "hub ready", "serve", "--data", hubData, "--mqtt-listen", mqttAddr,
		"--http-listen", httpAddr, "--passes-every", "10m")

	scan, dataDir := startPassKiosk(t, hubData, mqttAddr)

	// decide scans the pass once and returns the entry it made.
	decide := func() protocol.Entry { t.Helper(); return scanOnce(t, scan, dataDir, issued[0].Token) }
	if e := decide(); e.Decision != protocol.DecisionAllow || !slices.Contains(e.Reasons, "pass_valid") {
		t.Fatalf("before revoking: %s %v", e.Decision, e.Reasons)
	}

	admin := signInConsole(t, "http://"+httpAddr, "admin", "e2e admin password")
	page := "/ops/passes/" + issued[0].ID
	revoked := time.Now()
	if code, body := admin.post(page+"/revoke", url.Values{"csrf": {admin.csrf(page)}, "reason": {"reported lost"}}); code != http.StatusSeeOther {
		t.Fatalf("revoke on the console = %d %.300q", code, body)
	}
	testkit.EventuallyState(t, 10*time.Second, "a scan turned back as revoked", func() (bool, string) {
		e := decide()
		return e.Decision == protocol.DecisionAlert && slices.Contains(e.Reasons, "pass_revoked"), fmt.Sprintf("%s %v", e.Decision, e.Reasons)
	})
	t.Logf("revoked on the console; turned back at the kiosk %s later", time.Since(revoked).Round(10*time.Millisecond))
	if _, body := admin.get("/ops/audit"); !strings.Contains(body, "pass_revoke") || !strings.Contains(body, issued[0].ID+" site-1 unit 3-502: reported lost") {
		t.Errorf("the audit log lacks the revocation")
	}
}

// TestConsolePassesInBrowser issues a pass in a real Chromium against the
// real hub program: the form, the QR image the hub draws, a holder named
// <script>alert(1)</script> shown as (masked) text, the printable sheet,
// revoking with a reason, and the list.
func TestConsolePassesInBrowser(t *testing.T) {
	// A hub machine on UTC: hub passes and the console still agree on
	// days (both China Standard Time).
	t.Setenv("TZ", "UTC")
	ctx := consoleBrowser(t)
	dataDir := t.TempDir()
	if _, err := runProgram("hub", "keys", "init", "--data", dataDir); err != nil {
		t.Fatal(err)
	}
	households := filepath.Join(t.TempDir(), "households.csv")
	var csv strings.Builder
	csv.WriteString("unit,name,kind\n")
	for i, name := range []string{"王小明", "李华", "张伟", "欧阳娜娜", "陈静", "刘洋", "赵磊", "孙丽", "周杰", "吴敏"} {
		kind := "resident"
		if i%4 == 3 {
			kind = "tenant"
		}
		fmt.Fprintf(&csv, "%d-%d,%s,%s\n", 3+i/5, 501+100*(i%5), name, kind)
	}
	if err := os.WriteFile(households, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var seeded []struct {
		ID string `json:"id"`
	}
	runJSON(t, &seeded, "hub", "passes", "issue", "--json", "--data", dataDir, "--site", "huamu-001", "--csv", households, "--until", "2026-12-31")
	for _, args := range [][]string{
		{"revoke", seeded[2].ID, "--reason", "reported lost"},
		{"status", seeded[4].ID, "--home-observation", "--until", time.Now().AddDate(0, 0, 14).Format(time.DateOnly)},
	} {
		if _, err := runProgram("hub", append(append([]string{"passes"}, args...), "--data", dataDir)...); err != nil {
			t.Fatal(err)
		}
	}
	addUser(t, dataDir, "browser test pw", "admin", "--admin")
	httpAddr := testkit.FreeAddr(t)
	hub := start(t, "hub", "hub ready", "serve", "--data", dataDir, "--mqtt-listen", testkit.FreeAddr(t), "--http-listen", httpAddr)
	base := "http://" + httpAddr

	do, eval := browserSteps(t, ctx, hub, 20*time.Second)
	dialogs := make(chan string, 4)
	go func() {
		for ev, err := range chromedp.Events(ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			dialogs <- ev.Message
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()

	do("sign in",
		chromedp.Navigate(base+"/ops/signin"),
		chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), "browser test pw"),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("entries")),
	)
	do("the pass list from the nav", chromedp.Click(chromedp.ID("nav-passes")), chromedp.WaitVisible(chromedp.ID("passes")))
	do("the issue form", chromedp.Click(chromedp.ID("issue-link")), chromedp.WaitVisible(chromedp.ID("issue-form")))
	if n := eval(`String(document.querySelectorAll("#nokey").length)`); n != "0" {
		t.Errorf("the issue form says there is no key")
	}
	do("issue a pass",
		chromedp.SetValue(chromedp.ID("i-site"), "huamu-001"),
		chromedp.SetValue(chromedp.ID("i-kind"), "resident"),
		chromedp.SendKeys(chromedp.ID("i-unit"), "5-1201"),
		chromedp.SendKeys(chromedp.ID("i-name"), consoleXSS),
		chromedp.SetValue(chromedp.ID("i-until"), "2026-12-31"),
		chromedp.Click(chromedp.ID("issue")),
		chromedp.WaitVisible(chromedp.ID("qr")),
	)
	id := eval(`document.getElementById("pass-id").textContent`)
	testkit.EventuallyState(t, 10*time.Second, "the QR image drawn", func() (bool, string) {
		w := eval(`String(document.getElementById("qr").complete ? document.getElementById("qr").naturalWidth : 0)`)
		return w != "0", w
	})
	do("issued", shot(t, "console-pass-issued.png"))
	if got := eval(`document.getElementById("pass-name").textContent`); got != "<***>" {
		t.Errorf("the holder %q shows as %q, want the masked text <***>", consoleXSS, got)
	}
	if n := eval(`String(document.querySelectorAll("main script").length)`); n != "0" {
		t.Errorf("the holder's name made %s script elements", n)
	}
	if got := eval(`document.getElementById("pass-unit").textContent + " " + document.querySelector(".notice").textContent`); !strings.Contains(got, "5-1201 已签发") {
		t.Errorf("the issued page says %q", got)
	}
	sheet := eval(`fetch(document.getElementById("print").href).then(r => r.text())`)
	if !strings.Contains(sheet, "size: A4") || !strings.Contains(sheet, id) || !strings.Contains(sheet, "5-1201") {
		t.Errorf("the printable sheet: %.300q", sheet)
	}

	do("revoke it",
		chromedp.SendKeys(chromedp.ID("revoke-reason"), "印错了，重新签发"),
		chromedp.Click(chromedp.ID("revoke")),
		// The issued page had a notice too: wait for the revoked page's own.
		chromedp.WaitVisible(chromedp.CSS("#pass-state.state-revoked")),
	)
	if got := eval(`document.getElementById("pass-state").textContent`); !strings.Contains(got, "已作废") || !strings.Contains(got, "印错了") {
		t.Errorf("after revoking, the state reads %q", got)
	}
	do("the list", chromedp.Navigate(base+"/ops/passes?site=huamu-001"), chromedp.WaitVisible(chromedp.ID("passes")), shot(t, "console-passes.png"))
	if got := eval(`Array.from(document.querySelectorAll("#passes tbody tr")).map(tr => tr.className).join(" ")`); strings.Count(got, "state-revoked") != 2 ||
		strings.Count(got, "state-home_observation") != 1 || strings.Count(got, "state-valid") != 8 {
		t.Errorf("the list's rows: %q", got)
	}
	select {
	case msg := <-dialogs:
		t.Errorf("a JavaScript dialog opened: %q", msg)
	default:
	}
}
