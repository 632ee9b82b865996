package console

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records/recordstest"
	"github.com/gatepost/gatepost/internal/need"
	"github.com/gatepost/gatepost/protocol"
)

// passEnv is a console with a real pass store beside it, as hub serve
// wires them; huamu-001 is known to the hub by its entries.
type passEnv struct {
	*opsEnv
	passes  *passes.Store
	changed atomic.Int32 // calls of PassesChanged
}

var passNow = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC) // 10:00 on 1 March in the console's zone

func newPassEnv(tb testing.TB, withKey bool) *passEnv {
	tb.Helper()
	dir := tb.TempDir()
	env := newOps(tb, filepath.Join(dir, "hub.db"))
	env.clock.Set(passNow)
	recordstest.SaveEntries(tb, env.rec, passNow.Add(-time.Hour), protocol.Entry{Kind: protocol.KindDelivery, Decision: protocol.DecisionRecord,
		Reasons: []string{"parcel_at_drop_point"}, Count: 1})
	ps, err := passes.Open(dir, env.clock)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ps.Close() })
	if withKey {
		if _, err := ps.InitKey(tb.Context()); err != nil {
			tb.Fatal(err)
		}
	}
	pe := &passEnv{opsEnv: env, passes: ps}
	// The console of newOps has no pass store; give it one the way
	// server.Open does.
	env.c.cfg.ManagePasses = ps
	env.c.cfg.Passes = ps
	env.c.cfg.PassesChanged = func() { pe.changed.Add(1) }
	return pe
}

func (e *passEnv) all(tb testing.TB) []passes.Pass {
	tb.Helper()
	list, err := e.passes.List(tb.Context(), passes.Filter{})
	if err != nil {
		tb.Fatal(err)
	}
	return list
}

// auditActions returns the audit log's pass_* lines, oldest first.
func (e *passEnv) auditActions(tb testing.TB) []operators.AuditRecord {
	tb.Helper()
	log, err := e.store.AuditLog(tb.Context(), 1000)
	if err != nil {
		tb.Fatal(err)
	}
	var out []operators.AuditRecord
	for i := len(log) - 1; i >= 0; i-- {
		if strings.HasPrefix(log[i].Action, "pass_") {
			out = append(out, log[i])
		}
	}
	return out
}

func (c *client) postMultipart(path string, fields map[string]string, file string) (int, string) {
	c.tb.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("csv", "households.csv")
	io.WriteString(fw, file)
	mw.Close()
	resp, err := c.http.Post(c.base+path, mw.FormDataContentType(), &body)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPassPagesAdminOnly(t *testing.T) {
	t.Parallel()
	env := newPassEnv(t, true)
	p, err := env.passes.Issue(t.Context(), passes.Request{Kind: protocol.PassResident, Site: "huamu-001", Unit: "3-502",
		ValidFrom: passNow, ValidUntil: passNow.AddDate(0, 6, 0)})
	if err != nil {
		t.Fatal(err)
	}
	op := env.client(t)
	op.signIn("op", opPW)
	token := op.csrf("/ops/")
	if _, body, _ := op.get("/ops/"); strings.Contains(body, "/ops/passes") {
		t.Error("an operator's page links to the pass pages")
	}
	for _, path := range []string{"/ops/passes", "/ops/passes/new", "/ops/passes/" + p.ID, "/ops/passes/" + p.ID + "/qr.png",
		"/ops/passes/sheet?id=" + p.ID} {
		code, body, _ := op.get(path)
		if code != http.StatusForbidden || strings.TrimSpace(body) != "Only an admin may do this." {
			t.Errorf("operator GET %s = %d %q, want 403 with a plain sentence", path, code, body)
		}
	}
	for path, form := range map[string]url.Values{
		"/ops/passes":                          {"site": {"huamu-001"}, "unit": {"1-101"}},
		"/ops/passes/" + p.ID + "/revoke":      {"reason": {"lost"}},
		"/ops/passes/" + p.ID + "/observation": {"action": {"set"}, "until": {"2026-03-14"}},
	} {
		form.Set("csrf", token)
		if code, body, _ := op.post(path, form); code != http.StatusForbidden || strings.Contains(body, "<a") {
			t.Errorf("operator POST %s = %d %q, want 403 without links", path, code, body)
		}
	}
	if list := env.all(t); len(list) != 1 || list[0].Status != "" {
		t.Errorf("after an operator's posts the store holds %+v", list)
	}
	if a := env.auditActions(t); len(a) != 0 || env.changed.Load() != 0 {
		t.Errorf("operator's refused posts audited %+v, told the feed %d times", a, env.changed.Load())
	}
}

var passLink = regexp.MustCompile(`^/ops/passes/([0-9A-Z]+)\?done=issued$`)

func TestIssuePassInConsole(t *testing.T) {
	t.Parallel()
	zbarimg := need.Program(t, "zbarimg", "zbar-tools")
	env := newPassEnv(t, true)
	c := env.client(t)
	c.signIn("admin", adminPW)
	code, body, _ := c.get("/ops/passes/new")
	if code != http.StatusOK || !strings.Contains(body, `<option value="huamu-001"`) || strings.Contains(body, "hub keys init") {
		t.Fatalf("GET /ops/passes/new = %d %.300q", code, body)
	}
	form := url.Values{"site": {"huamu-001"}, "kind": {"resident"}, "unit": {xss}, "name": {"王小明"},
		"from": {"2026-03-01"}, "until": {"2026-06-30"}}
	// No CSRF token: refused, nothing issued.
	if code, _, _ := c.post("/ops/passes", form); code != http.StatusForbidden || len(env.all(t)) != 0 {
		t.Fatalf("issue without CSRF = %d, %d passes", code, len(env.all(t)))
	}
	form.Set("csrf", c.csrf("/ops/passes/new"))
	code, _, h := c.post("/ops/passes", form)
	m := passLink.FindStringSubmatch(h.Get("Location"))
	if code != http.StatusSeeOther || m == nil {
		t.Fatalf("issue = %d to %q", code, h.Get("Location"))
	}
	id := m[1]
	list := env.all(t)
	cst := time.FixedZone("CST", 8*3600)
	if len(list) != 1 || list[0].ID != id || list[0].Name != "王*明" || list[0].Unit != xss || list[0].Site != "huamu-001" ||
		!list[0].ValidFrom.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, cst)) || !list[0].ValidUntil.Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, cst)) {
		t.Fatalf("issued %+v", list)
	}
	p := list[0]

	// The token verifies with the protocol's verifier and the hub's key set.
	sp, err := protocol.ParsePass(p.Token)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := env.passes.KeySet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	verified := false
	for _, k := range ks.Keys {
		verified = verified || (k.ID == sp.Key && sp.Verify(k.Key))
	}
	if !verified || sp.ID != id || sp.Unit != xss {
		t.Errorf("token %q: pass %+v does not verify with the key set %+v", p.Token, sp.Pass, ks)
	}

	code, body, _ = c.get("/ops/passes/" + id + "?done=issued")
	if code != http.StatusOK || !strings.Contains(body, `src="/ops/passes/`+id+`/qr.png"`) ||
		!strings.Contains(body, `href="/ops/passes/sheet?id=`+id+`"`) || !strings.Contains(body, "已签发") {
		t.Fatalf("GET the issued pass = %d %.500q", code, body)
	}
	for path, page := range map[string]string{"detail": body, "list": func() string { _, b, _ := c.get("/ops/passes?site=huamu-001"); return b }()} {
		if strings.Contains(page, xss) || !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("the %s page does not show the unit %q as escaped text", path, xss)
		}
	}

	// The QR image decodes to the exact token.
	resp, err := c.http.Get(c.base + "/ops/passes/" + id + "/qr.png")
	if err != nil {
		t.Fatal(err)
	}
	img, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr.png = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	file := filepath.Join(t.TempDir(), id+".png")
	os.WriteFile(file, img, 0o600)
	out, err := exec.Command(zbarimg, "--quiet", "--raw", "-Sbinary", file).Output()
	if err != nil {
		out, err = exec.Command(zbarimg, "--quiet", "--raw", file).Output()
	}
	if got := strings.TrimRight(string(out), "\r\n"); err != nil || got != p.Token {
		t.Errorf("zbarimg read %q (%v), want the token %q", got, err, p.Token)
	}

	// The printable sheet: the same HTML as hub passes print, allowed its
	// inline style and images but no script.
	code, sheet, h := c.get("/ops/passes/sheet?id=" + id)
	if code != http.StatusOK || !strings.Contains(sheet, "size: A4") || !strings.Contains(sheet, "王*明") ||
		strings.Contains(sheet, xss) || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("sheet = %d, CSP %q, %.300q", code, h.Get("Content-Security-Policy"), sheet)
	}
	if code, _, _ := c.get("/ops/passes/sheet?id=R0000000"); code != http.StatusNotFound {
		t.Errorf("sheet of an unknown pass = %d", code)
	}

	a := env.auditActions(t)
	// The QR image and the sheet are audited with the pass id.
	if len(a) != 3 || a[0].Action != "pass_issue" || a[0].User != "admin" || !strings.HasPrefix(a[0].Detail, id+" huamu-001") ||
		!strings.Contains(a[0].Detail, "2026-03-01..2026-06-30") || a[1].Action != "pass_qr" || !strings.HasPrefix(a[1].Detail, id) ||
		a[2].Action != "pass_print" || a[2].Detail != id {
		t.Errorf("audit = %+v", a)
	}
	if env.changed.Load() != 1 {
		t.Errorf("the pass feed was told %d times, want 1", env.changed.Load())
	}
}

func TestIssueRefusedNamesTheField(t *testing.T) {
	t.Parallel()
	env := newPassEnv(t, true)
	c := env.client(t)
	c.signIn("admin", adminPW)
	token := c.csrf("/ops/passes/new")
	good := func() url.Values {
		return url.Values{"csrf": {token}, "site": {"huamu-001"}, "kind": {"resident"}, "unit": {"3-502"}, "name": {xss},
			"from": {"2026-03-01"}, "until": {"2026-06-30"}}
	}
	for _, tc := range []struct {
		field, value, want string
	}{
		{"site", "huamu-009", "site: no compound \"huamu-009\""},
		{"site", "huamu 1", "site: must be"},
		{"from", "2026/03/01", "from: \"2026/03/01\" is not a date"},
		{"until", "31.06.2026", "until: "},
		{"until", "2026-02-27", "until: the last valid day (2026-02-27) is before the first (2026-03-01)"},
		{"unit", "", "unit: a resident pass needs a unit"},
		{"kind", "visitor", "kind: must be"},
	} {
		form := good()
		form.Set(tc.field, tc.value)
		code, body, _ := c.post("/ops/passes", form)
		if code != http.StatusBadRequest || !strings.Contains(body, "输入有误："+htmlEscape(tc.want)) {
			t.Errorf("issue with %s=%q = %d, want 400 saying %q; got %.300q", tc.field, tc.value, code, tc.want, errorLine(body))
		}
		// The form comes back as typed, escaped.
		if code == http.StatusBadRequest && (strings.Contains(body, xss) || !strings.Contains(body, `value="&lt;script&gt;`)) {
			t.Errorf("the refused form does not show the name back escaped")
		}
	}
	for _, tc := range []struct {
		csv, site, want string
	}{
		{"unit,name\n3-501,王小明\n,李明\n", "huamu-001", "CSV line 3: unit: a resident pass needs a unit"},
		{"unit,name,valid_until\n3-501,王小明,2026-06-30\n3-502,李明,30/06/2026\n", "huamu-001", "CSV line 3: valid_until:"},
		{"unit,name,site\n3-501,王小明,huamu-001\n3-502,李明,huamu-404\n", "", "CSV line 3: site: no compound \"huamu-404\""},
		{"unit,name\n3-501,\"王小明\n", "huamu-001", "CSV line 2:"},
		{"name\n王小明\n", "huamu-001", "CSV header needs a unit column"},
		{"unit,name\n3-501,王小明\n", "", "site: must be"},
	} {
		code, body := c.postMultipart("/ops/passes/csv", map[string]string{"csrf": token, "site": tc.site, "kind": "resident"}, tc.csv)
		if code != http.StatusBadRequest || !strings.Contains(body, htmlEscape(tc.want)) {
			t.Errorf("CSV %q = %d, want 400 saying %q; got %.300q", tc.csv, code, tc.want, errorLine(body))
		}
	}
	if code, _ := c.postMultipart("/ops/passes/csv", map[string]string{"site": "huamu-001"}, "unit\n3-501\n"); code != http.StatusForbidden {
		t.Errorf("CSV without CSRF = %d, want 403", code)
	}
	if n := len(env.all(t)); n != 0 {
		t.Errorf("refused requests issued %d passes", n)
	}
	if a := env.auditActions(t); len(a) != 0 || env.changed.Load() != 0 {
		t.Errorf("refused requests audited %+v, told the feed %d times", a, env.changed.Load())
	}

	// A good CSV issues every row, in one go, with a sheet of them all.
	code, body := c.postMultipart("/ops/passes/csv", map[string]string{"csrf": token, "site": "huamu-001", "kind": "resident",
		"until": "2026-08-31"}, "\ufeffunit,name,kind\n3-501,王小明,\n3-502,欧阳小明,tenant\n,李明,volunteer\n")
	list := env.all(t)
	if code != http.StatusOK || len(list) != 3 || !strings.Contains(body, "已签发 3 张") || !strings.Contains(body, "/ops/passes/sheet?id=") {
		t.Fatalf("good CSV = %d, %d passes, %.300q", code, len(list), errorLine(body))
	}
	for _, p := range list {
		if lastDay(p) != "2026-08-31" || p.Site != "huamu-001" {
			t.Errorf("CSV pass %+v", p)
		}
	}
	if a := env.auditActions(t); len(a) != 3 || env.changed.Load() != 1 {
		t.Errorf("CSV issue audited %d lines, told the feed %d times", len(a), env.changed.Load())
	}
}

// lastDay is p's last valid day in China Standard Time, for the tests.
func lastDay(p passes.Pass) string {
	return p.ValidUntil.In(time.FixedZone("CST", 8*3600)).Add(-time.Second).Format(time.DateOnly)
}

func htmlEscape(s string) string {
	return strings.NewReplacer(`"`, "&#34;", "<", "&lt;", ">", "&gt;", "'", "&#39;").Replace(s)
}

var errorPattern = regexp.MustCompile(`<p class="error"[^>]*>([^<]*)</p>`)

func errorLine(body string) string {
	if m := errorPattern.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return body
}

func TestRevokeAndHomeObservation(t *testing.T) {
	t.Parallel()
	env := newPassEnv(t, true)
	ctx := t.Context()
	issue := func(unit string) passes.Pass {
		p, err := env.passes.Issue(ctx, passes.Request{Kind: protocol.PassResident, Site: "huamu-001", Unit: unit,
			ValidFrom: passNow, ValidUntil: passNow.AddDate(0, 6, 0)})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	lost, home := issue("3-501"), issue("3-502")
	c := env.client(t)
	c.signIn("admin", adminPW)
	token := c.csrf("/ops/passes/" + lost.ID)
	status := func(id string) passes.Pass {
		p, err := env.passes.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	statusList := func() *protocol.StatusList {
		l, err := env.passes.StatusList(ctx, "huamu-001")
		if err != nil {
			t.Fatal(err)
		}
		return &l
	}
	v0 := statusList().Version

	for _, tc := range []struct {
		path string
		form url.Values
		code int
		want string
	}{
		{"/ops/passes/" + lost.ID + "/revoke", url.Values{"reason": {"reported lost"}}, http.StatusForbidden, ""}, // no CSRF
		{"/ops/passes/" + lost.ID + "/revoke", url.Values{"csrf": {token}, "reason": {"  "}}, http.StatusBadRequest, "reason: is required"},
		{"/ops/passes/" + lost.ID + "/revoke", url.Values{"csrf": {token}, "reason": {strings.Repeat("x", 201)}}, http.StatusBadRequest, "reason: is longer"},
		{"/ops/passes/R0000000/revoke", url.Values{"csrf": {token}, "reason": {"lost"}}, http.StatusNotFound, "No such pass."},
		{"/ops/passes/" + home.ID + "/observation", url.Values{"csrf": {token}, "action": {"set"}, "until": {"14/03/2026"}}, http.StatusBadRequest, "until: "},
		{"/ops/passes/" + home.ID + "/observation", url.Values{"csrf": {token}, "action": {"set"}, "until": {""}}, http.StatusBadRequest, "until: is required"},
		{"/ops/passes/" + home.ID + "/observation", url.Values{"csrf": {token}, "action": {"set"}, "until": {"2026-02-28"}}, http.StatusBadRequest, "until: the last day of home observation (2026-02-28) has passed"},
		{"/ops/passes/" + home.ID + "/observation", url.Values{"csrf": {token}, "action": {"clear"}}, http.StatusConflict, "此证不在居家观察中"},
		{"/ops/passes/" + home.ID + "/observation", url.Values{"csrf": {token}, "action": {"forget"}}, http.StatusBadRequest, "action must be set or clear"},
	} {
		code, body, _ := c.post(tc.path, tc.form)
		if code != tc.code || !strings.Contains(body, htmlEscape(tc.want)) {
			t.Errorf("POST %s %v = %d %.200q, want %d saying %q", tc.path, tc.form, code, errorLine(body), tc.code, tc.want)
		}
	}
	if status(lost.ID).Status != "" || status(home.ID).Status != "" || statusList().Version != v0 || len(env.auditActions(t)) != 0 {
		t.Fatalf("refused changes changed something")
	}

	// Revoke, with the reason the guard sees.
	code, _, h := c.post("/ops/passes/"+lost.ID+"/revoke", url.Values{"csrf": {token}, "reason": {"reported lost <b>"}})
	if code != http.StatusSeeOther || h.Get("Location") != "/ops/passes/"+lost.ID+"?done=revoked" {
		t.Fatalf("revoke = %d %s", code, h.Get("Location"))
	}
	if p := status(lost.ID); p.Status != protocol.StatusRevoked || p.Reason != "reported lost <b>" {
		t.Errorf("after revoking: %+v", p)
	}
	if e := statusList().Find(lost.ID); e == nil || e.Status != protocol.StatusRevoked {
		t.Errorf("status list lacks the revocation: %+v", statusList())
	}
	_, body, _ := c.get("/ops/passes/" + lost.ID + "?done=revoked")
	if !strings.Contains(body, "已作废") || strings.Contains(body, `id="revoke-form"`) || !strings.Contains(body, "reported lost &lt;b&gt;") {
		t.Errorf("the revoked pass's page: %.400q", body)
	}
	// Revocation is for good: no home observation, no second revocation.
	for path, form := range map[string]url.Values{
		"/revoke":      {"csrf": {token}, "reason": {"again"}},
		"/observation": {"csrf": {token}, "action": {"set"}, "until": {"2026-03-14"}},
	} {
		if code, _, _ := c.post("/ops/passes/"+lost.ID+path, form); code != http.StatusConflict {
			t.Errorf("POST %s on a revoked pass = %d, want 409", path, code)
		}
	}

	// Home observation through 14 March, then ended early.
	code, _, _ = c.post("/ops/passes/"+home.ID+"/observation", url.Values{"csrf": {token}, "action": {"set"}, "until": {"2026-03-14"}, "reason": {"返沪"}})
	cst := time.FixedZone("CST", 8*3600)
	if p := status(home.ID); code != http.StatusSeeOther || p.Status != protocol.StatusHomeObservation ||
		p.StatusUntil == nil || !p.StatusUntil.Equal(time.Date(2026, 3, 15, 0, 0, 0, 0, cst)) {
		t.Fatalf("set home observation = %d, pass %+v", code, p)
	}
	if e := statusList().Find(home.ID); e == nil || e.Status != protocol.StatusHomeObservation {
		t.Errorf("status list lacks the home observation")
	}
	_, body, _ = c.get("/ops/passes?site=huamu-001&state=home_observation")
	if !strings.Contains(body, home.ID) || strings.Contains(body, lost.ID) || !strings.Contains(body, "2026-03-14") {
		t.Errorf("list of home observation: %.500q", body)
	}
	code, _, _ = c.post("/ops/passes/"+home.ID+"/observation", url.Values{"csrf": {token}, "action": {"clear"}})
	if p := status(home.ID); code != http.StatusSeeOther || p.Status != "" || statusList().Find(home.ID) != nil {
		t.Errorf("clear = %d, pass %+v", code, p)
	}

	var got []string
	for _, a := range env.auditActions(t) {
		got = append(got, a.User+" "+a.Action+" "+a.Detail)
	}
	want := []string{
		"admin pass_revoke " + lost.ID + " huamu-001 unit 3-501: reported lost <b>",
		"admin pass_home_observation " + home.ID + " huamu-001 unit 3-502 through 2026-03-14: 返沪",
		"admin pass_clear " + home.ID + " huamu-001 unit 3-502: home observation ended",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := env.changed.Load(); n != 3 {
		t.Errorf("the pass feed was told %d times, want 3", n)
	}
}

func TestPassListPagedAndFiltered(t *testing.T) {
	t.Parallel()
	env := newPassEnv(t, true)
	var rows []passes.Row
	for i := range 60 {
		rows = append(rows, passes.Row{Line: i + 2, Request: passes.Request{Kind: protocol.PassResident, Site: "huamu-001",
			Unit: fmt.Sprintf("%d-%03d", 1+i/20, 101+i%20), ValidFrom: passNow, ValidUntil: passNow.AddDate(0, 6, 0)}})
	}
	list, err := env.passes.IssueRows(t.Context(), rows)
	if err != nil {
		t.Fatal(err)
	}
	env.passes.Revoke(t.Context(), list[7].ID, "moved out")
	c := env.client(t)
	c.signIn("admin", adminPW)
	count := func(body string) int { return strings.Count(body, `<tr class="state-`) }
	code, body, _ := c.get("/ops/passes?site=huamu-001")
	if code != http.StatusOK || count(body) != passesPage || !strings.Contains(body, `id="next"`) {
		t.Fatalf("first page = %d, %d rows", code, count(body))
	}
	_, body, _ = c.get("/ops/passes?site=huamu-001&page=1")
	if count(body) != 10 || strings.Contains(body, `id="next"`) || !strings.Contains(body, `id="prev"`) {
		t.Errorf("second page: %d rows", count(body))
	}
	_, body, _ = c.get("/ops/passes?state=revoked")
	if count(body) != 1 || !strings.Contains(body, list[7].ID) || !strings.Contains(body, "moved out") {
		t.Errorf("revoked: %d rows", count(body))
	}
	_, body, _ = c.get("/ops/passes?unit=2-105")
	if count(body) != 1 || !strings.Contains(body, list[24].ID) {
		t.Errorf("unit 2-105: %d rows", count(body))
	}
	for q, want := range map[string]string{"state=lost": "state must be", "site=a%20b": "site must be", "page=-1": "page must be"} {
		if code, body, _ := c.get("/ops/passes?" + q); code != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("GET /ops/passes?%s = %d, want 400 saying %q", q, code, want)
		}
	}
	c.get("/ops/lang?to=en&back=/ops/passes")
	if _, body, _ := c.get("/ops/passes?state=revoked"); !strings.Contains(body, "Revoked") || !strings.Contains(body, "Issue a pass") {
		t.Errorf("the list in English: %.300q", body)
	}
}

func TestIssueFormWithoutKey(t *testing.T) {
	t.Parallel()
	env := newPassEnv(t, false)
	c := env.client(t)
	c.signIn("admin", adminPW)
	code, body, _ := c.get("/ops/passes/new")
	if code != http.StatusOK || !strings.Contains(body, `id="nokey"`) || !strings.Contains(body, "hub keys init --data") {
		t.Errorf("the issue form without a key = %d, %.300q", code, body)
	}
	code, body, _ = c.post("/ops/passes", url.Values{"csrf": {c.csrf("/ops/passes/new")}, "site": {"huamu-001"}, "unit": {"3-502"}})
	if code != http.StatusConflict || !strings.Contains(body, "hub keys init --data") || len(env.all(t)) != 0 {
		t.Errorf("issue without a key = %d, %.300q", code, errorLine(body))
	}
}
