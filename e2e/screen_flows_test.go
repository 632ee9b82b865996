package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/daemon"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
)

// The guard's screen in a real headless Chromium against a real kiosk
// daemon, its devices simulated on pseudo-terminals: each flow from the
// scan or the tap to what the page shows and what the journal holds.

// TestScreenResidentScans: allow, deny, fever re-measure, an alert that
// sounds until seen, the next scan replacing a result at once, and the
// entries reaching the hub.
func TestScreenResidentScans(t *testing.T) {
	g := newScreenGate(t, "R0000009")
	h := &hub{dataDir: t.TempDir(), mqttListen: testkit.FreeAddr(t), httpListen: testkit.FreeAddr(t)}
	g.cfg.MQTT.Broker = "tcp://" + h.mqttListen
	h.start(t)
	h.enrollScreenGate(t, g, g.cfg.MQTT.Broker)
	g.run()
	ctx := tab(t, g)
	waitJS(t, ctx, "online", `document.getElementById("link").classList.contains("good")`)
	shoot(t, ctx, "idle-zh")

	g.scan(g.pass("R0000001", protocol.PassResident, "3-502", "王*明"))
	resultShows(t, ctx, "allow", "请通行", "3-502", "王*明", "36.5")
	shoot(t, ctx, "allow-zh")
	es := g.waitEntries(1)
	if e := es[0]; e.Decision != protocol.DecisionAllow || e.Pass != "R0000001" || e.Unit != "3-502" {
		t.Errorf("entry 1 = %s %s %s, want allow of R0000001 at 3-502", e.Decision, e.Pass, e.Unit)
	}

	// A code that is no pass: refused with the rules' sentence. It
	// replaces the green result at once.
	g.scan("https://example.com/pay?id=1")
	resultShows(t, ctx, "deny", "不能通行")
	shoot(t, ctx, "deny-zh")

	// A fever: held (amber), then the second reading decides.
	g.setTemp(38.1)
	g.scan(g.pass("R0000002", protocol.PassResident, "5-201", "李*"))
	resultShows(t, ctx, "remeasure", "请复测体温", "38.1")
	shoot(t, ctx, "remeasure-zh")
	tap(t, ctx, "#result")
	waitJS(t, ctx, "held for a second reading", `!document.getElementById("held-box").hidden && document.getElementById("held").textContent.includes("5-201 李*")`)
	shoot(t, ctx, "held-zh")
	g.setTemp(36.6)
	g.scan(g.pass("R0000002", protocol.PassResident, "5-201", "李*"))
	resultShows(t, ctx, "allow", "5-201", "36.6")
	waitJS(t, ctx, "released after the second reading", `document.getElementById("held-box").hidden`)
	es = g.waitEntries(4)
	if !slices.Contains(es[2].Reasons, "fever_hold") || !slices.Contains(es[3].Reasons, "temperature_normal_on_recheck") {
		t.Errorf("fever entries have reasons %v then %v", es[2].Reasons, es[3].Reasons)
	}

	// A revoked pass: red, reported, and the alarm sounds until a guard
	// taps "seen"; the result does not time out while unseen.
	g.scan(g.pass("R0000009", protocol.PassResident, "7-101", "赵*"))
	resultShows(t, ctx, "alert", "报警")
	waitJS(t, ctx, "the alarm sounding", `window.gateAlarm.on && window.gateAlarm.beeps >= 2 && window.gateAlarm.ctx.state === "running"`)
	shoot(t, ctx, "alert-zh")
	tap(t, ctx, "#seen")
	waitJS(t, ctx, "alarm off and idle", `!window.gateAlarm.on && document.getElementById("result").hidden`)
	if seen := js[float64](t, ctx, `fetch("/api/state").then(r => r.json()).then(s => s.seen)`); seen != 5 {
		t.Errorf("the daemon's screen has seen = %v, want 5", seen)
	}
	es = g.waitEntries(5)
	if e := es[4]; e.Decision != protocol.DecisionAlert || !slices.Contains(e.Reasons, "pass_revoked") {
		t.Errorf("entry 5 = %s %v, want an alert for a revoked pass", e.Decision, e.Reasons)
	}

	// Every entry shown reaches the hub.
	testkit.EventuallyState(t, syncBound, "kiosk synced to the hub", func() (bool, string) {
		j, err := journal.OpenReadOnly(g.cfg.DataDir + "/" + daemon.JournalFile)
		if err != nil {
			return false, err.Error()
		}
		defer j.Close()
		st, err := j.Status(t.Context())
		if err != nil {
			return false, err.Error()
		}
		return st.Unsynced == 0 && st.AckedSeq == 5, fmt.Sprintf("%+v", st)
	})
	waitJS(t, ctx, "page shows nothing unsynced", `document.getElementById("unsynced").textContent.includes("0")`)
}

// TestScreenResultReturnsToIdle: a result goes away by itself after
// screen.result_for.
func TestScreenResultReturnsToIdle(t *testing.T) {
	g := newScreenGate(t)
	g.run()
	ctx := tab(t, g)
	g.scan(g.pass("R0000001", protocol.PassResident, "3-502", "王*明"))
	resultShows(t, ctx, "allow")
	start := time.Now()
	waitJS(t, ctx, "back to idle", `document.getElementById("result").hidden`)
	if took := time.Since(start); took < 3*time.Second {
		t.Errorf("result left after %s, want about %s", took, g.cfg.Screen.ResultFor)
	}
}

// TestScreenVisitor: the three questions by taps, a hostile name shown as
// text, a key-region returnee raising an alert, and a reload mid-form
// coming back to the same question.
func TestScreenVisitor(t *testing.T) {
	g := newScreenGate(t)
	g.run()
	ctx := tab(t, g)

	tap(t, ctx, `[data-act="visitor"]`)
	waitJS(t, ctx, "first question", `document.getElementById("v-question").textContent.includes("从哪里来")`)
	if n := js[int](t, ctx, `document.querySelectorAll("#v-step .choice.key").length`); n != 1 {
		t.Errorf("%d regions marked as key regions, want 1 (湖北)", n)
	}
	shoot(t, ctx, "visitor-zh")
	tapText(t, ctx, "湖北")
	tapText(t, ctx, "3 号楼")
	tapText(t, ctx, "5 楼")
	tapText(t, ctx, "3-502")
	tapText(t, ctx, "探亲")

	// Reload in the middle: the answers so far come back.
	if err := chromedp.Do(ctx, chromedp.Navigate(g.url())); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "same question after reload", `!document.getElementById("visitor").hidden && document.getElementById("v-question").textContent.includes("返沪")`)
	tapText(t, ctx, "是")
	tapText(t, ctx, "昨天")
	hostile := `<img src=x onerror=pwned=1>陈` // within the 32 characters a name may have
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("v-name"), hostile),
		chromedp.SendKeys(chromedp.ID("v-phone"), "138 0013 8000"),
	); err != nil {
		t.Fatal(err)
	}
	tap(t, ctx, "#v-submit")
	resultShows(t, ctx, "alert", "湖北")
	if js[bool](t, ctx, `!!window.pwned || document.querySelectorAll("img").length > 0`) {
		t.Error("the visitor's name was parsed as HTML")
	}
	es := g.waitEntries(1)
	e := es[0]
	if e.Kind != protocol.KindVisitor || e.Visitor == nil || e.Visitor.Name != hostile || e.Visitor.Contact != "13800138000" ||
		e.Unit != "3-502" || e.Visitor.Origin != "湖北" || !slices.Contains(e.Reasons, "key_region_returnee") || e.Temperature == nil {
		t.Errorf("visitor entry = %+v (visitor %+v), want the answers, a reading and key_region_returnee", e, e.Visitor)
	}
	tap(t, ctx, "#seen")
	waitJS(t, ctx, "idle after seen", `document.getElementById("result").hidden`)

	// A bad answer is refused with a sentence and the form goes back to it.
	tap(t, ctx, `[data-act="visitor"]`)
	for _, b := range []string{"上海", "1 号楼", "1 楼", "1-101", "维修", "否"} {
		tapText(t, ctx, b)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("v-name"), "张三"), chromedp.SendKeys(chromedp.ID("v-phone"), "12")); err != nil {
		t.Fatal(err)
	}
	tap(t, ctx, "#v-submit")
	waitJS(t, ctx, "phone refused", `!document.getElementById("v-error").hidden && document.getElementById("v-error").textContent.includes("手机号")`)
	if n := len(g.entries()); n != 1 {
		t.Errorf("a refused form journaled something: %d entries", n)
	}
}

// TestScreenPost: fewer than two on post in red; sign-in by the next scan;
// delivery with one tap; disinfection by area and the next scan; sign-out.
func TestScreenPost(t *testing.T) {
	g := newScreenGate(t)
	g.run()
	ctx := tab(t, g)
	waitJS(t, ctx, "understaffed warning", `!document.getElementById("understaffed").hidden`)
	if color := js[string](t, ctx, `getComputedStyle(document.getElementById("understaffed")).backgroundColor`); color != "rgb(176, 0, 32)" {
		t.Errorf("understaffed warning background = %s, want red", color)
	}
	vol := g.pass("V0000001", protocol.PassVolunteer, "", "周*")
	staff := g.pass("S0000001", protocol.PassStaff, "", "吴*")

	tap(t, ctx, `[data-act="sign_in"]`)
	waitJS(t, ctx, "sign-in mode", `!document.getElementById("mode").hidden`)
	g.scan(vol)
	resultShows(t, ctx, "record", "周*")
	waitJS(t, ctx, "volunteer on post", `document.getElementById("guards").textContent.includes("周*") && !document.getElementById("understaffed").hidden`)
	tap(t, ctx, "#result")
	tap(t, ctx, `[data-act="sign_in"]`)
	waitJS(t, ctx, "sign-in mode", `!document.getElementById("mode").hidden`)
	g.scan(staff)
	waitJS(t, ctx, "two on post, no warning", `document.getElementById("guards").textContent.includes("吴*") && document.getElementById("understaffed").hidden`)
	tap(t, ctx, "#result")

	tap(t, ctx, `[data-act="delivery"]`)
	resultShows(t, ctx, "record", "快递")

	tap(t, ctx, "#result")
	tap(t, ctx, `[data-act="disinfect"]`)
	tapText(t, ctx, "电梯按钮")
	waitJS(t, ctx, "disinfection mode", `!document.getElementById("mode").hidden && document.getElementById("mode-area").textContent.includes("电梯按钮")`)
	g.scan(staff)
	resultShows(t, ctx, "record", "电梯按钮")

	tap(t, ctx, "#result")
	tap(t, ctx, `[data-act="sign_out"]`)
	waitJS(t, ctx, "sign-out mode", `!document.getElementById("mode").hidden`)
	g.scan(vol)
	waitJS(t, ctx, "volunteer signed out", `!document.getElementById("guards").textContent.includes("周*") && !document.getElementById("understaffed").hidden`)

	// With no mode, a guard's pass is a check like any other.
	g.scan(g.pass("R0000001", protocol.PassResident, "3-502", "王*明"))
	resultShows(t, ctx, "allow")

	es := g.waitEntries(6)
	var kinds []string
	for _, e := range es {
		kinds = append(kinds, string(e.Kind))
	}
	want := []string{"shift_in", "shift_in", "delivery", "disinfection", "shift_out", "check"}
	if !slices.Equal(kinds, want) {
		t.Errorf("journal kinds = %v, want %v", kinds, want)
	}
	if d := es[3]; d.Area != "lift_buttons" || d.Pass != "S0000001" {
		t.Errorf("disinfection entry = %+v", d)
	}
}

// TestScreenLanguage: zh-CN by default, English by the toggle, kept over a
// reload; the rules' sentence follows the language.
func TestScreenLanguage(t *testing.T) {
	g := newScreenGate(t, "R0000009")
	g.run()
	ctx := tab(t, g)
	if p := js[string](t, ctx, `document.getElementById("prompt").textContent`); !strings.Contains(p, "出入证") {
		t.Errorf("default prompt = %q, want Chinese", p)
	}
	setLang(t, ctx, "en")
	waitJS(t, ctx, "English prompt", `document.getElementById("prompt").textContent.includes("entry pass")`)
	shoot(t, ctx, "idle-en")
	if err := chromedp.Do(ctx, chromedp.Navigate(g.url())); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "English after reload", `window.gateRendered > 0 && document.getElementById("prompt").textContent.includes("entry pass")`)
	g.scan(g.pass("R0000001", protocol.PassResident, "3-502", "王*明"))
	resultShows(t, ctx, "allow", "ENTER", "Pass valid")
	shoot(t, ctx, "allow-en")
	g.scan("hello")
	resultShows(t, ctx, "deny", "NO ENTRY")
	shoot(t, ctx, "deny-en")
	g.scan(g.pass("R0000009", protocol.PassResident, "7-101", "赵*"))
	resultShows(t, ctx, "alert", "ALERT", "revoked")
	shoot(t, ctx, "alert-en")
	tap(t, ctx, "#seen")
	waitJS(t, ctx, "idle after seen", `document.getElementById("result").hidden`)
	tap(t, ctx, `[data-act="visitor"]`)
	waitJS(t, ctx, "first question", `document.getElementById("v-question").textContent.includes("Where from")`)
	shoot(t, ctx, "visitor-en")
	tapText(t, ctx, "上海")
	tapText(t, ctx, "Bldg 3")
	tapText(t, ctx, "Floor 5")
	setLang(t, ctx, "zh-CN")
	waitJS(t, ctx, "question in Chinese again", `document.getElementById("v-question").textContent.includes("哪一户")`)
}

// TestScreenRestartAndDevice: the page says when it lost the daemon,
// reconnects by itself when it is back with the guards still on post, and
// shows a thermometer that stopped answering, then one unplugged.
func TestScreenRestartAndDevice(t *testing.T) {
	g := newScreenGate(t)
	g.run()
	ctx := tab(t, g)
	tap(t, ctx, `[data-act="sign_in"]`)
	waitJS(t, ctx, "sign-in mode", `!document.getElementById("mode").hidden`)
	g.scan(g.pass("V0000001", protocol.PassVolunteer, "", "周*"))
	resultShows(t, ctx, "record", "周*")

	g.stopAndWait()
	waitJS(t, ctx, "disconnected shown", `!document.getElementById("offline").hidden`)
	g.run()
	waitJS(t, ctx, "reconnected", `document.getElementById("offline").hidden`)
	// The restart signed nobody out.
	waitJS(t, ctx, "guard still on post", `document.getElementById("guards").textContent.includes("V0000001")`)
	g.scan(g.pass("R0000002", protocol.PassResident, "4-301", "钱*"))
	resultShows(t, ctx, "allow", "4-301")
	if es := g.waitEntries(2); es[1].Seq != 2 || !slices.Equal(es[1].OnPost, []string{"V0000001"}) {
		t.Errorf("after restart the entry has seq %d, on post %v; want 2, [V0000001]", es[1].Seq, es[1].OnPost)
	}

	// The thermometer stops answering: the scan asks for a re-measure,
	// and the problem bar says to check its cable.
	g.therm.SetSilent(true)
	g.scan(g.pass("R0000003", protocol.PassResident, "4-302", "孙*"))
	resultShows(t, ctx, "remeasure", "4-302")
	g.scan(g.pass("R0000003", protocol.PassResident, "4-302", "孙*"))
	waitJS(t, ctx, "thermometer problem shown", `!document.getElementById("problem").hidden && document.getElementById("problem").textContent.includes("测温仪")`)

	// The thermometer's cable pulled: its chip turns red at the next scan.
	g.therm.Close()
	g.scan(g.pass("R0000004", protocol.PassResident, "4-303", "周*"))
	waitJS(t, ctx, "thermometer shown not connected", `[...document.querySelectorAll("#devices .chip.bad")].some(e => e.textContent.includes("测温仪"))`)
}
