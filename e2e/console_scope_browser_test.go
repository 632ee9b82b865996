package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatepost/gatepost/internal/testkit"
)

// TestScopedConsoleInBrowser signs in, in a real Chromium, as an operator
// scoped with `hub users scope` to two of the six compounds, and as a
// building lead of building 3 of huamu-001: each page shows only theirs.
// Screenshots: console-scoped-*.png, console-lead-*.png.
func TestScopedConsoleInBrowser(t *testing.T) {
	ctx := consoleBrowser(t)
	dataDir := t.TempDir()
	seedConsoleHub(t, dataDir)
	hubCmd := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "hub"), append(args, "--data", dataDir)...)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("hub %v: %v\n%s", args, err, out)
		}
	}
	hubCmd("browser test pw\n", "users", "add", "zhou", "--password-stdin")
	hubCmd("", "users", "scope", "zhou", "--sites", "huamu-001,huamu-002")
	hubCmd("browser test pw\n", "users", "add", "lou3", "--password-stdin", "--role", "building-lead", "--site", "huamu-001", "--buildings", "3")
	hubCmd("", "keys", "init")
	for _, p := range [][]string{{"3-201", "王小明"}, {"3-502", "李四"}, {"4-101", "赵六"}} {
		hubCmd("", "passes", "issue", "--site", "huamu-001", "--unit", p[0], "--name", p[1])
	}
	httpAddr := testkit.FreeAddr(t)
	hub := start(t, "hub", "hub ready", "serve", "--data", dataDir, "--mqtt-listen", testkit.FreeAddr(t), "--http-listen", httpAddr)
	base := "http://" + httpAddr
	do, eval := browserSteps(t, ctx, hub, 20*time.Second)
	signIn := func(user string) {
		t.Helper()
		do("sign in as "+user, chromedp.Navigate(base+"/ops/signin"), chromedp.WaitVisible(chromedp.ID("user")),
			chromedp.SendKeys(chromedp.ID("user"), user), chromedp.SendKeys(chromedp.ID("password"), "browser test pw"),
			chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("signout")))
	}

	signIn("zhou")
	do("entries", chromedp.WaitVisible(chromedp.ID("entries")), shot(t, "console-scoped-entries.png"))
	if got := eval(`Array.from(document.querySelectorAll("#f-site option")).map(o => o.value).join(",")`); got != ",huamu-001,huamu-002" {
		t.Errorf("the scoped operator's compound choices = %q, want huamu-001 and huamu-002", got)
	}
	sites := eval(`Array.from(new Set(Array.from(document.querySelectorAll("#entries tr td:nth-child(2)")).map(td => td.textContent))).sort().join(",")`)
	if sites == "" || strings.Trim(strings.NewReplacer("huamu-001", "", "huamu-002", "", ",", "").Replace(sites), " ") != "" {
		t.Errorf("the scoped operator's entries come from %q", sites)
	}
	do("month", chromedp.Navigate(base+"/ops/onemap?month=2026-02"), chromedp.WaitVisible(chromedp.ID("month")), shot(t, "console-scoped-month.png"))
	if got := eval(`Array.from(new Set(Array.from(document.querySelectorAll("#month tbody tr td:first-child")).map(td => td.textContent))).sort().join(",")`); got != "huamu-001,huamu-002" {
		t.Errorf("the scoped operator's month lists %q", got)
	}
	do("fleet", chromedp.Navigate(base+"/ops/fleet"), chromedp.WaitVisible(chromedp.ID("fleet")), shot(t, "console-scoped-fleet.png"))
	if body := eval(`document.querySelector("#fleet").innerText`); strings.Contains(body, "huamu-003") || !strings.Contains(body, "huamu-001") {
		t.Errorf("the scoped operator's fleet = %.300q", body)
	}
	do("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("user")))

	signIn("lou3")
	do("the lead's passes", chromedp.WaitVisible(chromedp.ID("pass-filters")), shot(t, "console-lead-passes.png"))
	if body := eval(`document.querySelector("main").innerText`); !strings.Contains(body, "3-201") || !strings.Contains(body, "3-502") ||
		strings.Contains(body, "4-101") {
		t.Errorf("the lead's passes = %.300q, want building 3's only", body)
	}
	do("the lead's day map", chromedp.Navigate(base+"/ops/onemap?site=huamu-001&day=2026-02-03"),
		chromedp.WaitVisible(chromedp.CSS("#onemap tfoot")), shot(t, "console-lead-onemap.png"))
	if rows := eval(`Array.from(document.querySelectorAll("#onemap tbody tr td:first-child")).map(td => td.textContent).join(",")`); rows != "3" {
		t.Errorf("the lead's day map lists buildings %q, want 3 alone", rows)
	}
}
