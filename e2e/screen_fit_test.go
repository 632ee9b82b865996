package e2e

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/protocol"
)

// The guard's screen on the panels kiosks use (docs/hardware.md): at each
// size, landscape and portrait, every flow the screen has is walked in a
// real Chromium against a real kiosk daemon, and at each step, in both
// languages, every control in view must lie inside the viewport (nothing
// to scroll to) and be at least 9 mm tall on that panel.

// fitPanel is a touchscreen: its pixels and its diagonal in inches.
type fitPanel struct {
	w, h   int
	inches float64
}

// fitPanels are the panels of docs/hardware.md.
var fitPanels = []fitPanel{
	{800, 480, 7},     // Raspberry Pi official 7" touchscreen
	{1024, 600, 7},    // the common 7" HDMI panels
	{1280, 800, 10.1}, // 10.1" panels
}

// minTapMM is the least height of a control a gloved finger must hit.
const minTapMM = 9.0

// minTapPx is minTapMM in CSS pixels on p (the kiosk runs at a device
// scale of 1: one CSS pixel is one panel pixel).
func (p fitPanel) minTapPx() float64 {
	ppi := math.Hypot(float64(p.w), float64(p.h)) / p.inches
	return minTapMM / 25.4 * ppi
}

// fitCheckJS lists, as sentences, what does not fit: a page taller or
// wider than the viewport (the page hides its overflow, so this alone
// would pass a page whose buttons are pushed off; hence the rest), and
// each control in view (not in a hidden subtree, not under an open
// overlay) that lies partly outside the viewport, is cut off by a box
// that clips or scrolls, is covered by something else, or is shorter
// than %f px.
const fitCheckJS = `(() => {
  const minPx = %f, vw = innerWidth, vh = innerHeight, se = document.scrollingElement, bad = [];
  if (se.scrollHeight > vh) bad.push("the page scrolls: it is " + se.scrollHeight + " px tall in " + vh);
  if (se.scrollWidth > vw) bad.push("the page scrolls sideways: it is " + se.scrollWidth + " px wide in " + vw);
  const name = (e) => (e.id ? "#" + e.id : e.dataset.act ? "[data-act=" + e.dataset.act + "]" : e.tagName.toLowerCase()) +
    " \"" + (e.innerText || e.placeholder || "").replace(/\s+/g, " ").trim().slice(0, 30) + "\"";
  const overlays = [...document.querySelectorAll(".overlay")].filter((o) => !o.hidden);
  for (const c of document.querySelectorAll("button, input, select, textarea, a[href]")) {
    if (c.closest("[hidden]") || !c.getClientRects().length || getComputedStyle(c).visibility === "hidden") continue;
    const r = c.getBoundingClientRect();
    // Under an open overlay that does not hold it: not in view, by design.
    const z = (e) => { for (; e && e !== document.body; e = e.parentElement) { const s = getComputedStyle(e); if (s.position !== "static" && s.zIndex !== "auto") return +s.zIndex; } return 0; };
    if (overlays.some((o) => !o.contains(c) && z(o) > z(c) && (() => { const q = o.getBoundingClientRect();
      return r.left >= q.left - 1 && r.right <= q.right + 1 && r.top >= q.top - 1 && r.bottom <= q.bottom + 1; })())) continue;
    if (r.top < -0.5 || r.left < -0.5 || r.bottom > vh + 0.5 || r.right > vw + 0.5) {
      bad.push(name(c) + " is outside the screen: " + [r.left, r.top, r.right, r.bottom].map(Math.round).join(","));
      continue;
    }
    // Cut by a box that clips or scrolls (a grid of choices too long for
    // its room): a finger cannot reach what is scrolled away.
    let clip = null;
    for (let e = c.parentElement; e && e !== document.body; e = e.parentElement) {
      if (getComputedStyle(e).overflowY === "visible" && getComputedStyle(e).overflowX === "visible") continue;
      const q = e.getBoundingClientRect();
      if (r.top < q.top - 0.5 || r.bottom > q.bottom + 0.5 || r.left < q.left - 0.5 || r.right > q.right + 0.5) { clip = e; break; }
    }
    if (clip) { bad.push(name(c) + " is cut off by " + name(clip)); continue; }
    if (r.height < minPx) bad.push(name(c) + " is " + r.height.toFixed(1) + " px tall, under " + minPx.toFixed(1));
    const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (!top || !(c === top || c.contains(top) || top.contains(c))) bad.push(name(c) + " is covered by " + (top ? name(top) : "nothing"));
  }
  return bad;
})()`

// fitShots are the steps saved as screenshots at each size, in one
// language each (both are checked at every step):
//
//	go test ./e2e -run TestScreenFits -screenshots $PWD/docs/screenshots
var fitShots = map[string]string{
	"idle-full": "en", "visitor-returned": "zh-CN", "visitor-contact": "en", "alert": "zh-CN",
}

// TestScreenFits walks the screen at each panel size, landscape and
// portrait.
func TestScreenFits(t *testing.T) {
	for _, p := range fitPanels {
		for _, portrait := range []bool{false, true} {
			w, h := p.w, p.h
			if portrait {
				w, h = h, w
			}
			t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) { walkScreenAt(t, p, w, h) })
		}
	}
}

// fitWalk is the walk at one size.
type fitWalk struct {
	t     *testing.T
	g     *screenGate
	ctx   context.Context
	size  string
	minPx float64
	steps []string
	// prelude is script run in the same turn as each check (and before
	// each screenshot), so that no state pushed by the daemon undoes
	// what it puts up.
	prelude string
}

// check tests the step on screen in both languages, then comes back to
// the language it found.
func (f *fitWalk) check(step string) {
	f.t.Helper()
	f.steps = append(f.steps, step)
	was := js[string](f.t, f.ctx, `document.documentElement.lang`)
	for _, lang := range []string{was, otherLang(was)} {
		f.setLang(lang)
		for _, b := range js[[]string](f.t, f.ctx, f.prelude+fmt.Sprintf(fitCheckJS, f.minPx)) {
			f.t.Errorf("%s, %s, %s: %s", f.size, step, lang, b)
		}
		if want, ok := fitShots[step]; ok && (want == "" || want == lang) {
			if f.prelude != "" {
				js[bool](f.t, f.ctx, f.prelude+"true")
			}
			shoot(f.t, f.ctx, fmt.Sprintf("fit-%s-%s-%s", f.size, step, strings.TrimSuffix(lang, "-CN")))
		}
	}
	f.setLang(was)
}

func otherLang(l string) string {
	if l == "en" {
		return "zh-CN"
	}
	return "en"
}

// setLang switches language by the page's own toggle, clicked from script
// so that it works under a full-screen result too.
func (f *fitWalk) setLang(lang string) {
	f.t.Helper()
	if js[string](f.t, f.ctx, `document.documentElement.lang`) != lang {
		js[bool](f.t, f.ctx, `document.getElementById("lang").click(), true`)
	}
	waitJS(f.t, f.ctx, "language "+lang, fmt.Sprintf(`document.documentElement.lang === %q`, lang))
}

// dismiss takes a result off the screen: "seen" for an alert, a tap
// anywhere for the rest.
func (f *fitWalk) dismiss() {
	f.t.Helper()
	if js[bool](f.t, f.ctx, `!document.getElementById("seen").hidden`) {
		tap(f.t, f.ctx, "#seen")
	} else {
		tap(f.t, f.ctx, "#result")
	}
	waitJS(f.t, f.ctx, "back to idle", `document.getElementById("result").hidden`)
}

// result waits for a result of decision (any when "") and checks it.
func (f *fitWalk) result(step, decision string) {
	f.t.Helper()
	cond := `!document.getElementById("result").hidden`
	if decision != "" {
		cond += fmt.Sprintf(` && document.getElementById("result").classList.contains(%q)`, decision)
	}
	waitJS(f.t, f.ctx, "result "+step, cond)
	f.check(step)
	f.dismiss()
}

func walkScreenAt(t *testing.T, p fitPanel, w, h int) {
	g := newScreenGate(t, "R0000009")
	g.cfg.Screen.ResultFor = config.Duration(time.Minute) // a result stays while both languages are checked
	g.cfg.Screen.ModeFor = config.Duration(10 * time.Minute)
	g.cfg.Rules.VisitorsAdmitted = true // so a visitor with a fever is asked to measure again
	g.run()
	ctx := tab(t, g)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(w), int64(h))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "viewport resized", fmt.Sprintf(`innerWidth === %d && innerHeight === %d`, w, h))
	f := &fitWalk{t: t, g: g, ctx: ctx, size: fmt.Sprintf("%dx%d", w, h), minPx: p.minTapPx()}
	guards := []string{g.pass("V0000001", protocol.PassVolunteer, "", "周*"), g.pass("S0000001", protocol.PassStaff, "", "吴*")}
	f.check("idle")

	// Every button of the idle screen, as the page has them: a control
	// added later is walked too.
	acts := js[[]string](t, ctx, `[...document.querySelectorAll("#actions button")].map((b) => b.dataset.act || b.id)`)
	if len(acts) < 5 {
		t.Fatalf("the idle screen has the buttons %v, want at least the five of today", acts)
	}
	signedIn := 0
	for _, act := range acts {
		tap(t, ctx, fmt.Sprintf(`#actions [data-act=%q]`, act))
		switch act {
		case "visitor":
			f.walkVisitor()
		case "delivery":
			f.result("delivery", "record")
		case "sign_in", "sign_out":
			waitJS(t, ctx, act+" mode", `!document.getElementById("mode").hidden`)
			f.check(act)
			if act == "sign_in" {
				g.scan(guards[signedIn%len(guards)])
				signedIn++
				f.result("signed-in", "record")
			} else {
				tap(t, ctx, "#mode-cancel")
				waitJS(t, ctx, "mode cancelled", `document.getElementById("mode").hidden`)
			}
		case "disinfect":
			waitJS(t, ctx, "areas", `!document.getElementById("areas").hidden && document.querySelectorAll("#area-list button").length > 0`)
			f.check("areas")
			tap(t, ctx, "#area-list button")
			waitJS(t, ctx, "disinfection mode", `!document.getElementById("mode").hidden`)
			f.check("disinfect")
			g.scan(guards[1])
			f.result("disinfected", "record")
		default:
			// A control this test does not know: whatever it opens must
			// fit too. Then back to idle by whatever it shows.
			waitJS(t, ctx, act+" answered", `[...document.querySelectorAll(".overlay")].some((o) => !o.hidden)`)
			f.check(act)
			f.back()
		}
	}
	// A second guard on post, so the post lists two.
	tap(t, ctx, `#actions [data-act="sign_in"]`)
	waitJS(t, ctx, "sign-in mode", `!document.getElementById("mode").hidden`)
	g.scan(guards[1])
	f.result("signed-in", "record")

	// The scans: allow, deny, a fever held for a second reading, an alert.
	g.scan(g.pass("R0000001", protocol.PassResident, "12-604", "欧阳*明"))
	f.result("allow", "allow")
	g.scan("https://example.com/pay?id=1")
	f.result("deny", "deny")
	g.setTemp(38.4)
	g.scan(g.pass("R0000002", protocol.PassResident, "5-201", "李*"))
	f.result("fever", "remeasure")
	g.setTemp(36.5)
	g.scan(g.pass("R0000009", protocol.PassResident, "7-101", "赵*"))
	waitJS(t, ctx, "alert", `!document.getElementById("result").hidden && document.getElementById("result").classList.contains("alert")`)
	f.check("alert")
	f.dismiss()

	// The fullest idle screen: two on post, one held, and (put up here by
	// script) both devices out in the header and every banner the daemon
	// can raise at once: a simulated device, a device problem, a warning,
	// a toast.
	waitJS(t, ctx, "held shown", `!document.getElementById("held-box").hidden`)
	f.prelude = `document.getElementById("devices").replaceChildren(...["测温仪 未连接 Thermometer not connected", "扫码器 未连接 Scanner not connected"].map((s) => {
	  const e = document.createElement("span"); e.className = "chip bad"; e.textContent = s; return e; }));
	["simulated", "problem", "warning", "toast"].forEach((id) => {
	  const e = document.getElementById(id); e.hidden = false;
	  e.textContent = id + ": 模拟设备：本机记录为演示数据，并非真人 SIMULATED devices: the entries made here are invented, not real people (set simulate = false in kiosk.toml)";
	});
	`
	f.check("idle-full")
	t.Logf("%s: checked %d steps in zh-CN and en: %s", f.size, len(f.steps), strings.Join(f.steps, ", "))
}

// walkVisitor answers the visitor's questions by taps, checking each
// question: a returnee (so the question of when is asked), then a fever,
// so the result offers "measure again".
func (f *fitWalk) walkVisitor() {
	t, ctx := f.t, f.ctx
	waitJS(t, ctx, "visitor form", `!document.getElementById("visitor").hidden && document.querySelectorAll("#v-step button").length > 0`)
	for i := 0; i < 12; i++ {
		step := js[string](t, ctx, `(() => { const q = document.getElementById("v-question").textContent;
		  return document.getElementById("v-name") ? "contact" : q; })()`)
		if step == "contact" {
			break
		}
		key := fmt.Sprintf("visitor-%d", i)
		// The question of the return date has the most buttons: name it.
		if js[bool](t, ctx, `document.querySelectorAll("#v-step .choice small").length > 3 && !document.querySelector("#v-step .choice.key")`) {
			key = "visitor-returned"
		}
		f.check(key)
		// A returnee when asked, else the first choice (a purpose the
		// compound lets in, a region not reported).
		js[bool](t, ctx, `(() => { const bs = [...document.querySelectorAll("#v-step .choice")];
		  (bs.find((b) => b.classList.contains("wide") && b.classList.contains("key")) || bs[0]).click(); return true; })()`)
		waitJS(t, ctx, "next question", fmt.Sprintf(`document.getElementById("v-question").textContent !== %q`, step))
	}
	// A refused answer first: its sentence takes room above the fields.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("v-name"), "欧阳 Alexandra"), chromedp.SendKeys(chromedp.ID("v-phone"), "12")); err != nil {
		t.Fatal(err)
	}
	tap(t, ctx, "#v-submit")
	waitJS(t, ctx, "phone refused", `!document.getElementById("v-error").hidden && document.getElementById("v-name")`)
	f.check("visitor-refused")
	errText := `document.getElementById("v-error").textContent`
	was := js[string](t, ctx, errText)
	f.setLang(otherLang(js[string](t, ctx, `document.documentElement.lang`)))
	if now := js[string](t, ctx, errText); now == was {
		t.Errorf("%s: the refusal %q stays the same in the other language", f.size, now)
	}
	f.setLang(otherLang(js[string](t, ctx, `document.documentElement.lang`)))
	js[bool](t, ctx, `(() => { const p = document.getElementById("v-phone"); p.value = "";
	  p.dispatchEvent(new Event("input")); return true; })()`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("v-phone"), "138 0013 8000")); err != nil {
		t.Fatal(err)
	}
	f.check("visitor-contact")
	f.g.setTemp(38.4)
	tap(t, ctx, "#v-submit")
	waitJS(t, ctx, "visitor result", `!document.getElementById("result").hidden && document.getElementById("result").classList.contains("remeasure")`)
	// The page offers "measure again" once its post of the form returns,
	// which may be just after the result arrives by /events.
	waitJS(t, ctx, `"measure again" offered for a visitor's fever`, `!document.getElementById("again").hidden`)
	f.check("visitor-fever")
	f.g.setTemp(36.5)
	tap(t, ctx, "#again")
	f.result("visitor-again", "allow") // a new result: the fever one is still up until it comes
}

// back leaves whatever a control opened: a result, a mode, a form.
func (f *fitWalk) back() {
	f.t.Helper()
	switch {
	case js[bool](f.t, f.ctx, `!document.getElementById("result").hidden`):
		f.dismiss()
	case js[bool](f.t, f.ctx, `!document.getElementById("mode").hidden`):
		tap(f.t, f.ctx, "#mode-cancel")
	default:
		js[bool](f.t, f.ctx, `[...document.querySelectorAll(".overlay:not([hidden]) .cancel")].forEach((b) => b.click()), true`)
	}
	waitJS(f.t, f.ctx, "back to idle", `[...document.querySelectorAll(".overlay")].every((o) => o.hidden)`)
}
