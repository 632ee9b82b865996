package console

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/downlink"
	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records/recordstest"
	"github.com/gatepost/gatepost/hub/retention"
	"github.com/gatepost/gatepost/protocol"
)

// audited returns the audit log's lines, newest first, as "action detail".
func audited(tb testing.TB, s *operators.Store) []string {
	tb.Helper()
	lines, err := s.AuditLog(tb.Context(), 100)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, l := range lines {
		out = append(out, l.User+" "+l.Action+" "+l.Detail)
	}
	return out
}

func countUsers(tb testing.TB, s *operators.Store) int {
	tb.Helper()
	us, err := s.Users(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	return len(us)
}

// Operators are refused the admin pages with a sentence, and their
// navigation does not offer them.
func TestAdminPagesRefuseOperators(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	op := env.client(t)
	op.signIn("op", opPW)
	_, body, _ := op.get("/ops/alerts")
	for _, link := range []string{`href="/ops/users"`, `href="/ops/kiosks"`, `href="/ops/retention"`} {
		if strings.Contains(body, link) {
			t.Errorf("an operator's page links to %s", link)
		}
	}
	token := op.csrf("/ops/alerts")
	for _, path := range []string{"/ops/users", "/ops/kiosks", "/ops/retention"} {
		if code, body, _ := op.get(path); code != http.StatusForbidden || !strings.Contains(body, "Only an admin") {
			t.Errorf("operator GET %s = %d %q, want 403 with a sentence", path, code, body)
		}
	}
	for path, form := range map[string]url.Values{
		"/ops/users":     {"name": {"mallory"}, "role": {"admin"}},
		"/ops/users/op":  {"action": {"admin"}},
		"/ops/kiosks":    {"site": {"huamu-001"}, "fever_c": {"37.0"}},
		"/ops/retention": {"do": {"save"}, "days.visitor": {"1"}},
	} {
		form.Set("csrf", token)
		if code, _, _ := op.post(path, form); code != http.StatusForbidden {
			t.Errorf("operator POST %s = %d, want 403", path, code)
		}
	}
	if u, _ := env.store.User(t.Context(), "op"); u.Admin || countUsers(t, env.store) != 2 {
		t.Errorf("an operator's posts changed the users")
	}
	if r, _ := env.store.Retention(t.Context()); r["visitor"] != 28 {
		t.Errorf("an operator's post changed the retention: %v", r)
	}
	admin := env.client(t)
	admin.signIn("admin", adminPW)
	_, body, _ = admin.get("/ops/alerts")
	for _, link := range []string{`href="/ops/users"`, `href="/ops/kiosks"`, `href="/ops/retention"`} {
		if !strings.Contains(body, link) {
			t.Errorf("an admin's page lacks the link %s", link)
		}
	}
}

var shownPW = regexp.MustCompile(`<code id="shown-pw">([^<]+)</code>`)

func TestUsersPage(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	ctx := t.Context()
	c := env.client(t)
	c.signIn("admin", adminPW)
	code, body, _ := c.get("/ops/users")
	if code != http.StatusOK || !strings.Contains(body, `id="user-op"`) || !strings.Contains(body, "从未登录") {
		t.Fatalf("users page = %d, want op listed, never signed in", code)
	}
	token := c.csrf("/ops/users")

	if code, _, _ := c.post("/ops/users", url.Values{"name": {"li"}, "role": {"operator"}}); code != http.StatusForbidden {
		t.Errorf("add without CSRF = %d, want 403", code)
	}
	for _, bad := range []struct{ name, role, want string }{
		{"", "operator", "用户名（name）不能为空"},
		{"li si", "operator", "用户名（name）只能用"},
		{"op", "operator", "“op” 已存在"},
		{"li", "root", "角色（role）须为 admin、operator 或 building-lead"},
		{"<script>alert(1)</script>", "operator", "收到 “&lt;script&gt;alert(1)&lt;/script&gt;”"},
	} {
		code, body, _ := c.post("/ops/users", url.Values{"csrf": {token}, "name": {bad.name}, "role": {bad.role}})
		if code != http.StatusBadRequest || !strings.Contains(body, bad.want) || shownPW.MatchString(body) {
			t.Errorf("add %q as %q = %d, want 400 saying %q and no password", bad.name, bad.role, code, bad.want)
		}
		if strings.Contains(body, "<script>alert") {
			t.Errorf("add %q: the name is on the page unescaped", bad.name)
		}
	}
	if n := countUsers(t, env.store); n != 2 {
		t.Fatalf("refused adds left %d users, want 2", n)
	}

	code, body, _ = c.post("/ops/users", url.Values{"csrf": {token}, "name": {"li"}, "role": {"operator"}})
	m := shownPW.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		t.Fatalf("add li = %d, want 200 showing the password", code)
	}
	pw := m[1]
	if _, err := env.store.Authenticate(ctx, "li", pw); err != nil {
		t.Errorf("li cannot sign in with the password shown: %v", err)
	}
	if _, body, _ := c.get("/ops/users"); strings.Contains(body, pw) {
		t.Errorf("the password is shown again on the next visit")
	}
	li := env.client(t)
	if code := li.signIn("li", pw); code != http.StatusSeeOther {
		t.Fatalf("li signs in = %d", code)
	}

	// Self-protection: no disabling or demoting oneself.
	for action, want := range map[string]string{"disable": "不能停用自己的账号", "operator": "不能取消自己的管理员角色"} {
		code, body, _ := c.post("/ops/users/admin", url.Values{"csrf": {token}, "action": {action}})
		if code != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("admin %s themselves = %d, want 400 saying %q", action, code, want)
		}
	}
	if u, _ := env.store.User(ctx, "admin"); !u.Admin || u.Disabled {
		t.Errorf("admin after refused self-changes = %+v", u)
	}
	if code, body, _ := c.post("/ops/users/nobody", url.Values{"csrf": {token}, "action": {"disable"}}); code != http.StatusBadRequest || !strings.Contains(body, "没有用户") {
		t.Errorf("disable nobody = %d, want 400", code)
	}
	if code, _, _ := c.post("/ops/users/li", url.Values{"csrf": {token}, "action": {"delete"}}); code != http.StatusBadRequest {
		t.Errorf("unknown action = %d, want 400", code)
	}

	// Disabling ends li's session; enabling lets li back in.
	if code, _, h := c.post("/ops/users/li", url.Values{"csrf": {token}, "action": {"disable"}}); code != http.StatusSeeOther || h.Get("Location") != "/ops/users?done=1" {
		t.Fatalf("disable li = %d", code)
	}
	if code, _, _ := li.get("/ops/"); code != http.StatusSeeOther {
		t.Errorf("li's session after disabling: GET /ops/ = %d, want a redirect to sign-in", code)
	}
	if code := li.signIn("li", pw); code != http.StatusUnauthorized {
		t.Errorf("disabled li signs in = %d, want 401", code)
	}
	c.post("/ops/users/li", url.Values{"csrf": {token}, "action": {"enable"}})
	if code := li.signIn("li", pw); code != http.StatusSeeOther {
		t.Errorf("enabled li signs in = %d", code)
	}

	// A new password: shown once, the old one stops working, sessions end.
	code, body, _ = c.post("/ops/users/li", url.Values{"csrf": {token}, "action": {"passwd"}})
	m = shownPW.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil || m[1] == pw {
		t.Fatalf("reset li's password = %d, want a new password shown", code)
	}
	if _, err := env.store.Authenticate(ctx, "li", pw); err == nil {
		t.Errorf("li's old password still works")
	}
	if code, _, _ := li.get("/ops/"); code != http.StatusSeeOther {
		t.Errorf("li's session survived the new password")
	}
	if _, err := env.store.Authenticate(ctx, "li", m[1]); err != nil {
		t.Errorf("li's new password: %v", err)
	}

	c.post("/ops/users/li", url.Values{"csrf": {token}, "action": {"admin"}})
	if u, _ := env.store.User(ctx, "li"); !u.Admin {
		t.Errorf("li after make admin = %+v", u)
	}
	_, body, _ = c.get("/ops/users")
	if !regexp.MustCompile(`(?s)id="user-li".*?<td>管理员</td>`).MatchString(body) {
		t.Errorf("the users page does not show li as admin")
	}

	c.get("/ops/lang?to=en&back=/ops/users")
	if _, body, _ := c.get("/ops/users"); !strings.Contains(body, "Add a user") || !strings.Contains(body, "Last sign-in") {
		t.Errorf("the users page in English lacks its English labels")
	}

	log := strings.Join(audited(t, env.store), "\n")
	for _, want := range []string{"admin user_add li role=operator", "admin user_disabled li", "admin user_enabled li",
		"admin user_passwd li", "admin user_role li role=admin"} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, pw) || strings.Contains(log, m[1]) {
		t.Errorf("a password is in the audit log")
	}
}

// testDownlinkKey signs what the recorder is given to publish.
var testDownlinkKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))

// openSent opens a signed downlink the recorder kept.
func openSent(body []byte) (protocol.Downlink, error) {
	return protocol.OpenDownlink(body, testDownlinkKey.Public().(ed25519.PublicKey))
}

// recorder is the edge of the kiosks page's tests: issuing goes through
// downlink.Issue into the real store, and what would go to the broker is
// kept (hub/server's test publishes over the real broker).
type recorder struct {
	env  *opsEnv
	mu   sync.Mutex
	sent map[string][]byte // topic -> body
	down bool              // the broker is away
}

func (p *recorder) PublishDownlink(ctx context.Context, site, kiosk string, kind protocol.DownlinkKind,
	payload json.RawMessage) (protocol.Downlink, error) {
	return downlink.Issue(ctx, p.env.rec, func(_ context.Context, topic string, body []byte) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.down {
			return errors.New("connection refused")
		}
		p.sent[topic] = body
		return nil
	}, testDownlinkKey, site, kiosk, kind, payload, p.env.clock.Now())
}

func (p *recorder) BrokerConnected() bool { p.mu.Lock(); defer p.mu.Unlock(); return !p.down }

func TestKiosksPage(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	ctx := t.Context()
	for _, k := range []string{"gate-1", "gate-2"} {
		if _, err := env.rec.SaveStatus(ctx, protocol.Status{Kiosk: k, Site: "huamu-001", Online: true}, env.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	c := env.client(t)
	c.signIn("admin", adminPW)

	// Without a publisher the page says so and publishes nothing.
	code, body, _ := c.get("/ops/kiosks")
	if code != http.StatusOK || !strings.Contains(body, `id="cannot-publish"`) || strings.Contains(body, `name="fever_c"`) {
		t.Errorf("kiosks page without a publisher = %d, want the sentence and no form", code)
	}
	token := c.csrf("/ops/kiosks")
	if code, _, _ := c.post("/ops/kiosks", url.Values{"csrf": {token}, "site": {"huamu-001"}, "fever_c": {"37.3"}}); code != http.StatusServiceUnavailable {
		t.Errorf("publish without a publisher = %d, want 503", code)
	}

	pub := &recorder{env: env, sent: map[string][]byte{}}
	env.c.cfg.Publisher = pub
	code, body, _ = c.get("/ops/kiosks")
	if code != http.StatusOK || !strings.Contains(body, `id="site-huamu-001"`) || !strings.Contains(body, `id="kiosk-gate-2"`) ||
		!strings.Contains(body, "尚未发布") || strings.Contains(body, "cannot-publish") {
		t.Fatalf("kiosks page = %d, want huamu-001 with its two kiosks, never published", code)
	}

	if code, _, _ := c.post("/ops/kiosks", url.Values{"site": {"huamu-001"}, "fever_c": {"37.3"}}); code != http.StatusForbidden {
		t.Errorf("publish without CSRF = %d, want 403", code)
	}
	for _, bad := range []struct{ site, kiosk, fever, want string }{
		{"huamu-001", "", "41", "发热阈值（fever_c）须在 35 至 40 °C 之间，收到 41"},
		{"huamu-001", "", "34.9", "fever_c"},
		{"huamu-001", "", "hot", "发热阈值（fever_c）须为数字"},
		{"huamu-001", "", "", "发热阈值（fever_c）须为数字"},
		{"huamu-001", "", "NaN", "fever_c"},
		{"huamu-001", "", "Inf", "fever_c"},
		{"huamu-009", "", "37.3", "小区（site）“huamu-009” 没有已知设备"},
		{"huamu-001", "gate-9", "37.3", "设备（kiosk）“gate-9” 不属于小区 huamu-001"},
	} {
		code, body, _ := c.post("/ops/kiosks", url.Values{"csrf": {token}, "site": {bad.site}, "kiosk": {bad.kiosk}, "fever_c": {bad.fever}})
		if code != http.StatusBadRequest || !strings.Contains(body, bad.want) {
			t.Errorf("publish site=%s kiosk=%s fever_c=%s = %d, want 400 saying %q", bad.site, bad.kiosk, bad.fever, code, bad.want)
		}
	}
	if ds, _ := env.rec.Downlinks(ctx); len(ds) != 0 || len(pub.sent) != 0 {
		t.Fatalf("refused forms stored %v and sent %d messages", ds, len(pub.sent))
	}

	code, _, h := c.post("/ops/kiosks", url.Values{"csrf": {token}, "site": {"huamu-001"}, "fever_c": {"37.3"}})
	if code != http.StatusSeeOther || h.Get("Location") != "/ops/kiosks?published=1&site=huamu-001" {
		t.Fatalf("publish = %d %s", code, h.Get("Location"))
	}
	body1 := pub.sent[protocol.DownlinkTopic("huamu-001", "", protocol.DownlinkConfig)]
	d, err := openSent(body1)
	if err != nil || d.Version != 1 || string(d.Payload) != `{"fever_c":37.3}` {
		t.Fatalf("published %s (%v), want version 1 with fever_c 37.3", body1, err)
	}
	// One kiosk on its own: the next version of the site's numbering.
	c.post("/ops/kiosks", url.Values{"csrf": {token}, "site": {"huamu-001"}, "kiosk": {"gate-1"}, "fever_c": {"37.0"}})
	d, _ = openSent(pub.sent[protocol.DownlinkTopic("huamu-001", "gate-1", protocol.DownlinkConfig)])
	if d.Version != 2 || string(d.Payload) != `{"fever_c":37}` {
		t.Errorf("gate-1's config = v%d %s, want v2 fever_c 37", d.Version, d.Payload)
	}
	// gate-1 reports it runs v2; gate-2 still runs nothing.
	env.rec.SaveStatus(ctx, protocol.Status{Kiosk: "gate-1", Site: "huamu-001", Online: true, Downlink: map[string]uint64{"config": 2}}, env.clock.Now())
	_, body, _ = c.get("/ops/kiosks?published=2&site=huamu-001")
	if !strings.Contains(body, "已向 huamu-001 发布配置版本 2") ||
		!regexp.MustCompile(`(?s)id="kiosk-gate-1".*?v2 · fever_c 37 °C.*?<td class="num">v2</td>\s*<td class="num runs ok">v2</td>`).MatchString(body) ||
		!regexp.MustCompile(`(?s)id="kiosk-gate-2".*?<td class="num">v1</td>\s*<td class="num runs warn">— \(未生效\)</td>`).MatchString(body) ||
		!strings.Contains(body, `<strong class="published">v1</strong> · fever_c 37.3 °C`) {
		t.Errorf("kiosks page after publishing does not show what was published and what runs:\n%s", body)
	}

	// The broker away: stored, said so, published on reconnect by the hub.
	pub.mu.Lock()
	pub.down = true
	pub.mu.Unlock()
	code, _, h = c.post("/ops/kiosks", url.Values{"csrf": {token}, "site": {"huamu-001"}, "fever_c": {"37.5"}})
	if code != http.StatusSeeOther || h.Get("Location") != "/ops/kiosks?stored=3&site=huamu-001" {
		t.Errorf("publish with the broker away = %d %s, want stored=3", code, h.Get("Location"))
	}
	if _, body, _ := c.get("/ops/kiosks"); !strings.Contains(body, `id="not-connected"`) {
		t.Errorf("the page does not say the hub is not connected")
	}

	log := strings.Join(audited(t, env.store), "\n")
	for _, want := range []string{"admin config_push site=huamu-001 kiosk=* fever_c=37.3 version=1",
		"admin config_push site=huamu-001 kiosk=gate-1 fever_c=37 version=2",
		"admin config_push site=huamu-001 kiosk=* fever_c=37.5 version=3 (stored; published when the hub reconnects)"} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %q:\n%s", want, log)
		}
	}
}

func TestRetentionPage(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	ctx := t.Context()
	v := func(name string) protocol.Entry {
		return protocol.Entry{Kind: protocol.KindVisitor, Decision: protocol.DecisionAllow,
			Visitor: &protocol.Visitor{Name: name, Contact: "13812345678"}}
	}
	recordstest.SaveEntries(t, env.rec, env.clock.Now().AddDate(0, 0, -20), v("王小明"), v("李四"))
	c := env.client(t)
	c.signIn("admin", adminPW)
	would := regexp.MustCompile(`(?s)id="kind-visitor">.*?<td class="num would">(\d+)</td>`)
	code, body, _ := c.get("/ops/retention")
	if m := would.FindStringSubmatch(body); code != http.StatusOK || m == nil || m[1] != "0" {
		t.Fatalf("retention page = %d, would = %v; want 0 visitors past 28 days", code, m)
	}
	token := c.csrf("/ops/retention")

	code, body, _ = c.post("/ops/retention", url.Values{"csrf": {token}, "do": {"preview"}, "days.visitor": {"14"}, "days.check": {"28"}})
	if m := would.FindStringSubmatch(body); code != http.StatusOK || m == nil || m[1] != "2" || !strings.Contains(body, "按新天数将处理") {
		t.Errorf("preview visitor=14 = %d, would = %v; want 2", code, m)
	}
	if r, _ := env.store.Retention(ctx); r["visitor"] != 28 {
		t.Errorf("a preview changed the retention: %v", r)
	}
	if list, _ := env.rec.Latest(ctx, 2); list[0].Visitor.Contact == "" {
		t.Errorf("a preview purged")
	}

	if code, _, _ := c.post("/ops/retention", url.Values{"do": {"save"}, "days.visitor": {"14"}}); code != http.StatusForbidden {
		t.Errorf("save without CSRF = %d, want 403", code)
	}
	for _, bad := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"days.visitor": {"-1"}}, "visitor 的保留天数（days）须为 1 至 3650 的整数，收到 “-1”"},
		{url.Values{"days.visitor": {"0"}}, "visitor 的保留天数"},
		{url.Values{"days.visitor": {"3651"}}, "visitor 的保留天数"},
		{url.Values{"days.visitor": {"two weeks"}}, "visitor 的保留天数"},
		{url.Values{"days.visitor": {"14"}, "days.check": {"-5"}}, "check 的保留天数"},
		{url.Values{"days.visitor": {"14"}, "days.parcel": {"3"}}, "未知类别（kind）“parcel”"},
		{url.Values{}, "没有填写任何保留天数"},
	} {
		bad.form.Set("csrf", token)
		bad.form.Set("do", "save")
		code, body, _ := c.post("/ops/retention", bad.form)
		if code != http.StatusBadRequest || !strings.Contains(body, bad.want) {
			t.Errorf("save %v = %d, want 400 saying %q", bad.form, code, bad.want)
		}
	}
	if r, _ := env.store.Retention(ctx); r["visitor"] != 28 || r["check"] != 28 {
		t.Errorf("refused saves changed the retention: %v", r)
	}

	code, _, h := c.post("/ops/retention", url.Values{"csrf": {token}, "do": {"save"}, "days.visitor": {"14"}, "days.check": {"28"}})
	if code != http.StatusSeeOther || h.Get("Location") != "/ops/retention?done=1" {
		t.Fatalf("save = %d", code)
	}
	if r, _ := env.store.Retention(ctx); r["visitor"] != 14 || r["check"] != 28 {
		t.Errorf("retention after save = %v", r)
	}
	_, body, _ = c.get("/ops/retention?done=1")
	if m := would.FindStringSubmatch(body); m == nil || m[1] != "2" || !strings.Contains(body, "已保存") {
		t.Errorf("after saving, would = %v, want 2 (the hourly purge's count)", m)
	}
	if got := audited(t, env.store); len(got) == 0 || got[0] != "admin retention_set check=28 (was 28) visitor=14 (was 28)" {
		t.Errorf("audit = %q", got)
	}
	// What the page counted is what the purge removes.
	env.clock.Advance(time.Minute)
	purger := &retention.Purger{Records: env.rec, Settings: env.store, Clock: env.clock}
	if err := purger.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if got := audited(t, env.store); got[0] != "(hub) purge visitor: 2" {
		t.Errorf("purge after saving audited %q, want visitor: 2", got[0])
	}
}
