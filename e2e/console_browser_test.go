package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/need"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

const consoleXSS = `<script>alert(1)</script>`

// seedConsoleHub fills dataDir/hub.db with a week of six compounds and,
// received now, a fever and a visitor named consoleXSS; then adds the
// users with the real `hub users add`.
func seedConsoleHub(t *testing.T, dataDir string) {
	t.Helper()
	s, err := records.Open(filepath.Join(dataDir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Seed(t.Context(), records.SeedPlan{Sites: 6, Kiosks: 2, Entries: 20000,
		Start: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), Span: 7 * 24 * time.Hour, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	b := protocol.Batch{Kiosk: "gate-x", Site: "huamu-001", Sent: now}
	for i, e := range []protocol.Entry{
		{Kind: protocol.KindCheck, Decision: protocol.DecisionAlert, Reasons: []string{"fever_confirmed"}, Unit: "3-201",
			Temperature: &protocol.Reading{ObjectC: 38.1, ScreenedC: 38.3}},
		{Kind: protocol.KindVisitor, Decision: protocol.DecisionAllow, Reasons: []string{"visitor"},
			Visitor: &protocol.Visitor{Name: consoleXSS, Contact: "13812345678", Visiting: "3-201", Purpose: consoleXSS}},
	} {
		e.Kiosk, e.Seq, e.Time = "gate-x", uint64(i+1), now
		e.ID = fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", 900+i)
		b.Entries = append(b.Entries, e)
	}
	if _, err := s.SaveBatch(t.Context(), b, now); err != nil {
		t.Fatal(err)
	}
	for _, u := range [][]string{{"admin", "--admin"}, {"wang"}} {
		cmd := exec.Command(filepath.Join(bin, "hub"), append([]string{"users", "add", "--data", dataDir, "--password-stdin"}, u...)...)
		cmd.Stdin = strings.NewReader("browser test pw\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("hub users add %v: %v\n%s", u, err, out)
		}
	}
}

// consoleBrowser starts a headless Chromium with a fresh profile and the
// flags the guard screen's tests use (chromiumFlags), in a window wide
// enough for the console's tables, bounded so that a stuck page fails the
// test instead of hanging it.
func consoleBrowser(t *testing.T) context.Context {
	t.Helper()
	path := need.Program(t, "chromium", "chromium fonts-wqy-microhei")
	bounded, cancelBound := context.WithTimeout(t.Context(), 90*time.Second)
	actx, cancelAlloc := chromedp.NewExecAllocator(bounded,
		append(chromiumFlags(path, t.TempDir()), chromedp.WindowSize(1400, 1000))...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc(); cancelBound() })
	// The first run starts the browser and ties it to its context: run it
	// on ctx, so that a step's own timeout later ends only that step.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// shot saves a PNG of the page to GATEPOST_SCREENSHOTS (e.g.
// docs/screenshots) when set, else to the test's temporary directory.
func shot(t *testing.T, name string) chromedp.Action[chromedp.Void] {
	dir := os.Getenv("GATEPOST_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		buf, err := chromedp.CaptureScreenshot()(ctx, tg)
		if err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.Void{}, os.WriteFile(filepath.Join(dir, name), buf, 0o644)
	}
}

// TestConsoleInBrowser walks the console in a real Chromium: sign-in,
// filter, export, the <script> visitor rendered inert, acknowledging an
// alert with a note, the one map, the fleet, the language toggle, and a
// form post without its CSRF token refused.
// browserSteps returns do, which runs chromedp steps within timeout and
// on failure ends the test saying where the page was, what it showed and
// the end of the hub's log, and eval, which evaluates JavaScript (awaiting
// a promise) and returns its string.
func browserSteps(t *testing.T, ctx context.Context, hub *proc, timeout time.Duration) (
	do func(what string, steps ...chromedp.Action[chromedp.Void]), eval func(js string) string) {
	do = func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		step, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := chromedp.Do(step, steps...); err != nil {
			url, _ := chromedp.Run(ctx, chromedp.Location())
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			log := hub.output()
			t.Fatalf("%s: %v (at %s: %.500q)\nhub log:\n%s", what, err, url, body, log[max(0, len(log)-3000):])
		}
	}
	eval = func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return s
	}
	return do, eval
}

func TestConsoleInBrowser(t *testing.T) {
	ctx := consoleBrowser(t)
	dataDir := t.TempDir()
	seedConsoleHub(t, dataDir)
	httpAddr := testkit.FreeAddr(t)
	hub := start(t, "hub", "hub ready", "serve", "--data", dataDir, "--mqtt-listen", testkit.FreeAddr(t), "--http-listen", httpAddr)
	base := "http://" + httpAddr

	do, eval := browserSteps(t, ctx, hub, 20*time.Second)
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	location := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	do("open the console", chromedp.Navigate(base+"/ops/"), chromedp.WaitVisible(chromedp.ID("user")))
	// Any JavaScript dialog (an alert(1) that ran) is a failure.
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
	if url := location(); !strings.HasSuffix(url, "/ops/signin") {
		t.Errorf("signed out, /ops/ went to %s, want the sign-in page", url)
	}
	do("sign-in screenshot", shot(t, "console-signin.png"))
	do("type the user", chromedp.SendKeys(chromedp.ID("user"), "admin"))
	do("type the password", chromedp.SendKeys(chromedp.ID("password"), "browser test pw"))
	do("sign in", chromedp.Click(chromedp.ID("signin")))
	do("the entries page", chromedp.WaitVisible(chromedp.ID("entries")))
	// The fever received now is raised by the hub's follower within a
	// poll; the bar shows it on the next page load (or live, by SSE).
	testkit.EventuallyState(t, 20*time.Second, "the fever in the open alerts bar", func() (bool, string) {
		if eval(`String(document.querySelectorAll("#open-alerts li.alert-fever").length)`) != "0" {
			return true, ""
		}
		do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("entries")))
		return false, text("#alertbar")
	})
	do("entries", shot(t, "console-entries.png"))

	do("filter",
		chromedp.SetValue(chromedp.ID("f-kind"), "visitor"),
		chromedp.SetValue(chromedp.ID("f-site"), "huamu-002"),
		chromedp.Click(chromedp.ID("filter")),
		chromedp.WaitVisible(chromedp.CSS(`#export[href*="kind=visitor"]`)),
	)
	if url := location(); !strings.Contains(url, "kind=visitor") {
		t.Errorf("after filtering the page is %s", url)
	}
	kinds := eval(`Array.from(document.querySelectorAll("#entries tr td:nth-child(4)")).map(td => td.textContent).join("|")`)
	if kinds == "" || strings.Trim(strings.ReplaceAll(kinds, "访客", ""), "|") != "" {
		t.Errorf("filtered by visitor, the kinds listed are %.200q", kinds)
	}

	csvText := eval(`fetch(document.getElementById("export").href).then(r => r.text())`)
	if lines := strings.Split(strings.TrimSpace(csvText), "\n"); !strings.HasPrefix(lines[0], "received,gate_time,site") || len(lines) < 2 ||
		!strings.Contains(lines[1], "huamu-002") || !strings.Contains(lines[1], "visitor") {
		t.Errorf("export = %.200q", csvText)
	}

	do("the <script> visitor, revealed by an admin",
		chromedp.Navigate(base+"/ops/?kiosk=gate-x&kind=visitor"),
		chromedp.WaitVisible(chromedp.CSS("#entries form button")),
		chromedp.Click(chromedp.CSS("#entries form button")),
		chromedp.WaitVisible(chromedp.ID("reveal-name")),
	)
	if got := text("#reveal-name"); got != consoleXSS {
		t.Errorf("revealed name = %q, want the literal text %q", got, consoleXSS)
	}
	if n := eval(`String(document.querySelectorAll("main script").length)`); n != "0" {
		t.Errorf("the visitor's name made %s script elements", n)
	}

	do("acknowledge the fever with a note",
		chromedp.Navigate(base+"/ops/alerts"),
		chromedp.WaitVisible(chromedp.CSS("tr.state-open form.move input[name=note]")),
		chromedp.SendKeys(chromedp.CSS("tr.state-open form.move input[name=note]"), "李医生已到门岗复测"),
		chromedp.Click(chromedp.CSS("tr.state-open form.move button[value=ack]")),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
		shot(t, "console-alerts.png"),
	)
	if got := text("tr.state-acked"); !strings.Contains(got, "admin: 李医生已到门岗复测") {
		t.Errorf("acknowledged alert row = %q, want admin's note", got)
	}

	status := eval(`fetch("/ops/alerts/1", {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"},
		body: "action=close&note=x"}).then(r => String(r.status))`)
	if status != "403" {
		t.Errorf("POST without its CSRF token = %s, want 403", status)
	}

	do("one map",
		chromedp.Navigate(base+"/ops/onemap?site=huamu-001&day=2026-02-03"),
		chromedp.WaitVisible(chromedp.CSS("#onemap tfoot")),
		shot(t, "console-onemap.png"),
	)
	if got := text("#onemap tfoot"); !strings.Contains(got, "合计") {
		t.Errorf("one map total row = %q", got)
	}
	do("month", chromedp.Navigate(base+"/ops/onemap?month=2026-02"), chromedp.WaitVisible(chromedp.ID("month")), shot(t, "console-month.png"))

	do("fleet", chromedp.Navigate(base+"/ops/fleet"), chromedp.WaitVisible(chromedp.ID("fleet")), shot(t, "console-fleet.png"))
	if got := text("#fleet"); !strings.Contains(got, "huamu-006-gate-2") || !strings.Contains(got, "gate-x") {
		t.Errorf("fleet = %.300q", got)
	}

	do("language toggle",
		chromedp.Click(chromedp.ID("lang")),
		chromedp.WaitVisible(chromedp.CSS("html[lang=en] nav")),
		shot(t, "console-fleet-en.png"),
	)
	if got := text("nav"); !strings.Contains(got, "Entries") || !strings.Contains(got, "One map") {
		t.Errorf("nav in English = %q", got)
	}
	select {
	case msg := <-dialogs:
		t.Errorf("a JavaScript dialog opened: %q", msg)
	default:
	}
}
