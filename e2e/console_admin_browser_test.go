package e2e

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/testkit"
)

// TestConsoleAdminInBrowser: in a real Chromium against the real hub and
// a real kiosk, an admin adds a user and sees the password once, that user
// signs in (and, an operator, finds no admin pages); the admin changes the
// fever line and the running kiosk applies it and reports the new
// version; the admin previews and saves a retention.
func TestConsoleAdminInBrowser(t *testing.T) {
	ctx := consoleBrowser(t)
	dataDir := t.TempDir()
	s, err := records.Open(filepath.Join(dataDir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	// Two months of one compound, so the retention page has something to count.
	err = s.Seed(t.Context(), records.SeedPlan{Sites: 1, Kiosks: 1, Entries: 3000,
		Start: time.Now().AddDate(0, 0, -60), Span: 60 * 24 * time.Hour, Seed: 3})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	add := exec.Command(filepath.Join(bin, "hub"), "users", "add", "admin", "--admin", "--data", dataDir, "--password-stdin")
	add.Stdin = strings.NewReader("browser test pw\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("hub users add: %v\n%s", err, out)
	}
	httpAddr, mqttAddr, mqttsAddr, enrollAddr := testkit.FreeAddr(t), testkit.FreeAddr(t), testkit.FreeAddr(t), testkit.FreeAddr(t)
	host, _, _ := net.SplitHostPort(enrollAddr)
	run(t, "hub", "tls", "init", "--data", dataDir, "--name", host)
	hub := start(t, "hub", "hub ready", "serve", "--data", dataDir, "--mqtt-listen", mqttAddr, "--http-listen", httpAddr,
		"--mqtts-listen", mqttsAddr, "--enroll-listen", enrollAddr)
	base := "http://" + httpAddr

	therm, scan := simDevices(t, sim.ThermometerOptions{})
	cfgPath, _ := kioskConfig(t, "tcp://"+mqttAddr, therm, scan, "", "")
	enrollAt(t, dataDir, cfgPath, "tcp://"+mqttAddr)
	kiosk := start(t, "kiosk", "kiosk ready", "run", "--config", cfgPath)

	do, eval := browserSteps(t, ctx, hub, 15*time.Second)
	signIn := func(user, password string) {
		t.Helper()
		do("sign in as "+user,
			chromedp.Navigate(base+"/ops/signin"),
			chromedp.WaitVisible(chromedp.ID("user")),
			chromedp.SendKeys(chromedp.ID("user"), user),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Click(chromedp.ID("signin")),
			chromedp.WaitVisible(chromedp.ID("entries")),
		)
	}
	signIn("admin", "browser test pw")

	do("add a user",
		chromedp.Click(chromedp.ID("nav-users")),
		chromedp.WaitVisible(chromedp.ID("add-user")),
		chromedp.SendKeys(chromedp.ID("new-name"), "zhao"),
		chromedp.Click(chromedp.ID("add")),
		chromedp.WaitVisible(chromedp.ID("shown-pw")),
		shot(t, "console-users.png"),
	)
	password := eval(`document.getElementById("shown-pw").textContent`)
	if len(password) != 20 {
		t.Fatalf("shown password = %q, want 20 characters", password)
	}
	do("the users page again", chromedp.Navigate(base+"/ops/users"), chromedp.WaitVisible(chromedp.ID("user-zhao")))
	if n := eval(`String(document.querySelectorAll("#shown-pw").length) + document.body.innerText.includes(` + jsString(password) + `)`); n != "0false" {
		t.Errorf("the password is shown again: %s", n)
	}

	// The kiosk is known to the hub once its presence arrives.
	testkit.EventuallyState(t, 15*time.Second, "the kiosk on the kiosks page", func() (bool, string) {
		do("kiosks page", chromedp.Navigate(base+"/ops/kiosks"), chromedp.WaitVisible(chromedp.CSS("h2")))
		return eval(`String(!!document.querySelector("#site-site-1 form.config"))`) == "true", eval(`document.body.innerText`)
	})
	do("publish fever_c 37.2",
		chromedp.SetValue(chromedp.CSS("#site-site-1 input[name=fever_c]"), "37.2"),
		chromedp.Click(chromedp.CSS("#site-site-1 form.config button")),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	)
	if got := eval(`document.querySelector(".notice").textContent`); !strings.Contains(got, "site-1") || !strings.Contains(got, "1") {
		t.Errorf("notice after publishing = %q", got)
	}
	testkit.EventuallyState(t, 15*time.Second, "the kiosk reporting config v1", func() (bool, string) {
		do("reload", chromedp.Navigate(base+"/ops/kiosks"), chromedp.WaitVisible(chromedp.ID("site-site-1")))
		runs := eval(`(document.querySelector("#kiosk-gate-1 td.runs") || {}).className + " " + (document.querySelector("#kiosk-gate-1 td.runs") || {}).textContent`)
		return strings.Contains(runs, "ok") && strings.Contains(runs, "v1"), runs
	})
	do("kiosks screenshot", shot(t, "console-kiosks.png"))
	testkit.EventuallyState(t, 5*time.Second, "the kiosk applying fever_c 37.2", func() (bool, string) {
		out := kiosk.output()
		return strings.Contains(out, "configuration from the hub applied") && strings.Contains(out, "fever_c=37.2"), out[max(0, len(out)-500):]
	})

	// Enrolling and retiring from the fleet page, as an admin: the code
	// is shown once, the kiosk is pending, then retired.
	do("enroll gate-2 from the fleet page",
		chromedp.Navigate(base+"/ops/fleet"),
		chromedp.WaitVisible(chromedp.ID("enroll-form")),
		chromedp.SendKeys(chromedp.ID("enroll-site"), "site-1"),
		chromedp.SendKeys(chromedp.ID("enroll-kiosk"), "gate-2"),
		chromedp.Click(chromedp.ID("enroll")),
		chromedp.WaitVisible(chromedp.ID("code-text")),
		shot(t, "console-fleet-enroll.png"),
	)
	if code := eval(`document.getElementById("code-text").textContent`); !strings.HasPrefix(code, "GPE1:"+enrollAddr+"/") {
		t.Errorf("the code shown = %q, want one for %s", code, enrollAddr)
	}
	states := func() map[string]string {
		var list struct {
			Kiosks []struct {
				Kiosk string `json:"kiosk"`
				State string `json:"state"`
			} `json:"kiosks"`
		}
		runJSON(t, &list, "hub", "kiosks", "list", "--json", "--data", dataDir)
		m := map[string]string{}
		for _, k := range list.Kiosks {
			m[k.Kiosk] = k.State
		}
		return m
	}
	if st := states(); st["gate-1"] != "enrolled" || st["gate-2"] != "pending" {
		t.Errorf("hub kiosks list after enrolling from the console: %v", st)
	}
	do("retire gate-2",
		chromedp.Navigate(base+"/ops/fleet"),
		chromedp.WaitVisible(chromedp.ID("retire-gate-2")),
		chromedp.Click(chromedp.CSS("#kiosk-gate-2 input[name=confirm]")),
		chromedp.Click(chromedp.ID("retire-gate-2")),
		chromedp.WaitVisible(chromedp.ID("fleet")),
	)
	testkit.EventuallyState(t, 5*time.Second, "gate-2 retired", func() (bool, string) {
		st := states()
		return st["gate-2"] == "retired", fmt.Sprint(st)
	})
	do("fleet screenshot", chromedp.Navigate(base+"/ops/fleet"), chromedp.WaitVisible(chromedp.ID("fleet")), shot(t, "console-fleet-retired.png"))

	do("preview a retention of 7 days",
		chromedp.Click(chromedp.ID("nav-retention")),
		chromedp.WaitVisible(chromedp.ID("retention")),
	)
	before := eval(`document.querySelector("#kind-visitor td.would").textContent`)
	do("preview",
		chromedp.SetValue(chromedp.ID("days-visitor"), "7"),
		chromedp.Click(chromedp.ID("preview")),
		chromedp.WaitVisible(chromedp.CSS("#retention.previewed")),
		shot(t, "console-retention.png"),
	)
	after := eval(`document.querySelector("#kind-visitor td.would").textContent`)
	if before == after || after == "0" {
		t.Errorf("visitors past retention: %s at 28 days, %s at 7; want more at 7", before, after)
	}
	do("save", chromedp.Click(chromedp.ID("save")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := eval(`document.querySelector("#kind-visitor td.num").textContent`); got != "7" {
		t.Errorf("visitor retention after saving = %s, want 7", got)
	}

	do("sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("user")))
	signIn("zhao", password)
	if got := eval(`document.querySelector("nav").innerText`); strings.Contains(got, "用户") || strings.Contains(got, "保留") {
		t.Errorf("an operator's navigation = %q, want no admin pages", got)
	}
	status := eval(`fetch("/ops/users").then(r => String(r.status))`)
	if status != "403" {
		t.Errorf("an operator's GET /ops/users = %s, want 403", status)
	}
	var ks []fleetKiosk
	runJSON(t, &ks, "hub", "kiosks", "--json", "--data", dataDir)
	for _, k := range ks {
		if k.Kiosk == "gate-1" && k.Downlink["config"] != 1 {
			t.Errorf("hub kiosks --json: gate-1 runs %v, want config 1", k.Downlink)
		}
	}
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string { return fmt.Sprintf("%q", s) }
