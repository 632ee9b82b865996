package console

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/alerts"
	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/records/recordstest"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
	"go.uber.org/goleak"
)

// seedEntries is the size of the shared store: several compounds and
// gates, a week of realistic traffic.
const seedEntries = 100_000

var (
	seedStart = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	seedOnce  sync.Once
	seedPath  string
	seedErr   error
)

// seededPath returns a hub.db shared by the tests that only read it,
// seeded once per run.
func seededPath(tb testing.TB) string {
	tb.Helper()
	seedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "console-seed-")
		if err != nil {
			seedErr = err
			return
		}
		seedPath = filepath.Join(dir, "hub.db")
		s, err := records.Open(seedPath)
		if err != nil {
			seedErr = err
			return
		}
		defer s.Close()
		seedErr = s.Seed(tb.Context(), records.SeedPlan{Sites: 6, Kiosks: 2, Entries: seedEntries,
			Start: seedStart, Span: 7 * 24 * time.Hour, Seed: 42})
	})
	if seedErr != nil {
		tb.Fatal(seedErr)
	}
	return seedPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if seedPath != "" {
		os.RemoveAll(filepath.Dir(seedPath))
	}
	// No live stream, keep-alive ticker or follower outlives its test.
	if err := goleak.Find(); code == 0 && err != nil {
		fmt.Fprintln(os.Stderr, "goleak:", err)
		code = 1
	}
	os.Exit(code)
}

const (
	adminPW = "admin password 1"
	opPW    = "operator password 1"
)

type opsEnv struct {
	c        *Console
	rec      *records.SQLite
	srv      *httptest.Server
	clock    *clock.Fake
	store    *operators.Store
	follower *alerts.Follower // feeds c's live view, as in the hub
}

// newOps serves a console on path (a hub.db) and a fresh console.db, with
// users "admin" (admin) and "op" (operator), on a fake clock a week after
// seedStart.
func newOps(tb testing.TB, path string) *opsEnv {
	tb.Helper()
	rec, err := records.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rec.Close() })
	env := &opsEnv{rec: rec, clock: clock.NewFake(seedStart.Add(7 * 24 * time.Hour))}
	if env.store, err = operators.Open(filepath.Join(tb.TempDir(), operators.FileName), env.clock); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { env.store.Close() })
	if env.c, err = New(Config{Records: rec, Operators: env.store, Clock: env.clock}); err != nil {
		tb.Fatal(err)
	}
	if env.follower, err = alerts.New(alerts.Config{Records: rec, Store: env.store, Watcher: env.c, Clock: env.clock}); err != nil {
		tb.Fatal(err)
	}
	if err := env.store.AddUser(tb.Context(), "admin", adminPW, true); err != nil {
		tb.Fatal(err)
	}
	if err := env.store.AddUser(tb.Context(), "op", opPW, false); err != nil {
		tb.Fatal(err)
	}
	env.srv = httptest.NewServer(env.c)
	tb.Cleanup(func() { env.c.Stop(); env.srv.Close() })
	return env
}

// poll runs the alert follower once.
func (e *opsEnv) poll(tb testing.TB) int {
	tb.Helper()
	n, err := e.follower.Poll(tb.Context())
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

type client struct {
	tb   testing.TB
	http *http.Client
	base string
}

func (e *opsEnv) client(tb testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{tb: tb, base: e.srv.URL, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`)

func (c *client) get(path string) (int, string, http.Header) {
	c.tb.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

func (c *client) post(path string, form url.Values) (int, string, http.Header) {
	c.tb.Helper()
	resp, err := c.http.PostForm(c.base+path, form)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// csrf returns the token of the forms on path.
func (c *client) csrf(path string) string {
	c.tb.Helper()
	_, body, _ := c.get(path)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		c.tb.Fatalf("GET %s has no csrf field", path)
	}
	return m[1]
}

func (c *client) signIn(user, password string) int {
	c.tb.Helper()
	token := c.csrf("/ops/signin")
	code, _, _ := c.post("/ops/signin", url.Values{"csrf": {token}, "user": {user}, "password": {password}})
	return code
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	c := env.client(t)
	if code, _, h := c.get("/ops/"); code != http.StatusSeeOther || h.Get("Location") != "/ops/signin" {
		t.Errorf("GET /ops/ signed out = %d %s, want a redirect to sign-in", code, h.Get("Location"))
	}
	if code, _, _ := c.get("/ops/events"); code != http.StatusUnauthorized {
		t.Errorf("GET /ops/events signed out = %d, want 401", code)
	}
	// No CSRF token: refused even with the right password.
	code, body, _ := c.post("/ops/signin", url.Values{"user": {"admin"}, "password": {adminPW}})
	if code != http.StatusForbidden || !strings.Contains(body, "表单已过期") {
		t.Errorf("sign-in without CSRF = %d, want 403 with the message", code)
	}
	if code := c.signIn("admin", "wrong password"); code != http.StatusUnauthorized {
		t.Errorf("sign-in with a wrong password = %d, want 401", code)
	}
	if code := c.signIn("admin", adminPW); code != http.StatusSeeOther {
		t.Fatalf("sign-in = %d, want 303", code)
	}
	code, body, _ = c.get("/ops/")
	if code != http.StatusOK || !strings.Contains(body, "admin (admin)") {
		t.Fatalf("GET /ops/ signed in = %d", code)
	}
	// The session cookie is HttpOnly and SameSite=Strict.
	u, _ := url.Parse(env.srv.URL + "/ops/")
	if len(c.http.Jar.Cookies(u)) == 0 {
		t.Fatalf("no session cookie")
	}
	// Signing out ends the session, and needs the token too.
	if code, _, _ := c.post("/ops/signout", url.Values{}); code != http.StatusForbidden {
		t.Errorf("sign-out without CSRF = %d, want 403", code)
	}
	token := c.csrf("/ops/")
	if code, _, _ := c.post("/ops/signout", url.Values{"csrf": {token}}); code != http.StatusSeeOther {
		t.Errorf("sign-out = %d", code)
	}
	if code, _, _ := c.get("/ops/"); code != http.StatusSeeOther {
		t.Errorf("GET /ops/ after sign-out = %d, want a redirect", code)
	}
	log, _ := env.store.AuditLog(t.Context(), 10)
	var actions []string
	for _, l := range log {
		actions = append(actions, l.Action)
	}
	if got := strings.Join(actions, " "); got != "sign_out sign_in sign_in_failed" {
		t.Errorf("audit actions = %q", got)
	}
}

func TestSignInRateLimited(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	c := env.client(t)
	for range maxFailures {
		if code := c.signIn("op", "not the password"); code != http.StatusUnauthorized {
			t.Fatalf("failed sign-in = %d", code)
		}
	}
	if code := c.signIn("op", opPW); code != http.StatusTooManyRequests {
		t.Errorf("sign-in after %d failures = %d, want 429", maxFailures, code)
	}
	env.clock.Advance(limitWindow + time.Second)
	if code := c.signIn("op", opPW); code != http.StatusSeeOther {
		t.Errorf("sign-in after the window = %d, want 303", code)
	}
}

var rowPattern = regexp.MustCompile(`(?s)<tr(?: class="urgent")?>\s*<td>(\d{4}-\d\d-\d\d [\d:]+)</td><td>([^<]*)</td><td>([^<]*)</td>`)

func TestEntriesTable(t *testing.T) {
	t.Parallel()
	env := newOps(t, seededPath(t))
	c := env.client(t)
	c.signIn("op", opPW)
	for _, tc := range []struct {
		query string
		check func(site, kiosk, body string) bool
	}{
		{"", nil},
		{"?site=huamu-003", func(site, _, _ string) bool { return site == "huamu-003" }},
		{"?kiosk=huamu-002-gate-1", func(_, kiosk, _ string) bool { return strings.HasPrefix(kiosk, "huamu-002-gate-1 #") }},
		{"?kind=visitor&site=huamu-001", func(site, _, _ string) bool { return site == "huamu-001" }},
		{"?decision=alert&fever=1", nil},
		{"?site=huamu-001&unit=3-201", func(site, _, body string) bool { return site == "huamu-001" }},
		{"?from=2026-02-03T08:00&to=2026-02-03T10:00", nil},
		{"?site=huamu-004&page=3", func(site, _, _ string) bool { return site == "huamu-004" }},
	} {
		code, body, _ := c.get("/ops/" + tc.query)
		if code != http.StatusOK {
			t.Errorf("GET /ops/%s = %d", tc.query, code)
			continue
		}
		rows := rowPattern.FindAllStringSubmatch(body, -1)
		if len(rows) == 0 {
			t.Errorf("GET /ops/%s listed no rows", tc.query)
		}
		if len(rows) > entriesPage {
			t.Errorf("GET /ops/%s listed %d rows, want at most %d", tc.query, len(rows), entriesPage)
		}
		for _, r := range rows {
			if tc.check != nil && !tc.check(r[2], r[3], body) {
				t.Errorf("GET /ops/%s listed %v", tc.query, r[1:])
				break
			}
		}
	}
	_, body, _ := c.get("/ops/?kind=visitor")
	if !regexp.MustCompile(`<td>1\d\d\*{4}\d{4}</td>`).MatchString(body) {
		t.Errorf("visitor phones are not masked like 138****5678 for an operator")
	}
	if strings.Contains(body, `action="/ops/reveal"`) {
		t.Errorf("an operator is offered reveal")
	}
	_, body, _ = c.get("/ops/?from=2026-02-03T08:00&to=2026-02-03T10:00")
	for _, r := range rowPattern.FindAllStringSubmatch(body, -1) {
		if r[1] < "2026-02-03 08:00" || r[1] >= "2026-02-03 10:00" {
			t.Errorf("time filter listed %s", r[1])
		}
	}
	for query, want := range map[string]string{
		"?kind=bogus":                      "kind must be one of",
		"?decision=maybe":                  "decision must be one of",
		"?from=yesterday":                  "from must be a time like",
		"?page=-1":                         "page must be a number",
		"?from=2026-02-03&to=2026-02-02":   "to must be after from",
		"?site=" + strings.Repeat("x", 65): "site is longer than 64",
		"?unit=3-201":                      "unit numbers repeat across compounds",
	} {
		code, body, _ := c.get("/ops/" + query)
		if code != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("GET /ops/%s = %d, want 400 saying %q", query, code, want)
		}
	}
}

func TestExport(t *testing.T) {
	t.Parallel()
	env := newOps(t, seededPath(t))
	c := env.client(t)
	c.signIn("op", opPW)
	code, body, h := c.get("/ops/entries.csv?site=huamu-002&kind=visitor")
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("export = %d %s", code, h.Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var want int
	env.rec.Each(t.Context(), records.Filter{Site: "huamu-002", Kind: "visitor"}, func(records.Stored) error { want++; return nil })
	if len(rows)-1 != want || want == 0 {
		t.Errorf("export has %d rows, want %d", len(rows)-1, want)
	}
	for _, r := range rows[1:] {
		if r[2] != "huamu-002" || r[5] != "visitor" || !strings.Contains(r[7], "****") {
			t.Errorf("export row %v: not the filter's, or the phone is not masked", r)
			break
		}
	}
	if code, _, _ := c.get("/ops/entries.csv?kind=bogus"); code != http.StatusBadRequest {
		t.Errorf("export with a bad kind = %d, want 400", code)
	}
	log, _ := env.store.AuditLog(t.Context(), 1)
	if len(log) != 1 || log[0].Action != "export" || log[0].User != "op" {
		t.Errorf("audit = %+v, want op's export", log)
	}
}

func TestScriptVisitorInertAndReveal(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	recordstest.SaveEntries(t, env.rec, env.clock.Now().Add(-time.Hour), protocol.Entry{
		Kind: protocol.KindVisitor, Decision: protocol.DecisionAlert, Reasons: []string{protocol.ReasonKeyRegionReturnee},
		Visitor: &protocol.Visitor{Name: xss, Contact: "13812345678", Visiting: "3-201", Returnee: true, Origin: xss},
	})
	if n := env.poll(t); n != 1 {
		t.Fatalf("Poll = %d, want 1", n)
	}
	c := env.client(t)
	c.signIn("admin", adminPW)
	_, body, _ := c.get("/ops/")
	if strings.Contains(body, "<script>") || !strings.Contains(body, "138****5678") {
		t.Errorf("entries page: raw <script> or unmasked phone")
	}
	token := c.csrf("/ops/")
	if code, _, _ := c.post("/ops/reveal", url.Values{"kiosk": {"gate-1"}, "seq": {"1"}}); code != http.StatusForbidden {
		t.Errorf("reveal without CSRF = %d, want 403", code)
	}
	code, body, _ := c.post("/ops/reveal", url.Values{"csrf": {token}, "kiosk": {"gate-1"}, "seq": {"1"}})
	if code != http.StatusOK || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") || strings.Contains(body, xss) ||
		!strings.Contains(body, "13812345678") {
		t.Errorf("reveal = %d: want the full record, escaped", code)
	}
	for _, bad := range []url.Values{{"kiosk": {"gate-1"}, "seq": {"x"}}, {"kiosk": {"../x"}, "seq": {"1"}}, {"kiosk": {"gate-1"}, "seq": {"99"}}} {
		bad.Set("csrf", token)
		if code, _, _ := c.post("/ops/reveal", bad); code != http.StatusBadRequest && code != http.StatusNotFound {
			t.Errorf("reveal %v = %d, want 400 or 404", bad, code)
		}
	}
	log, _ := env.store.AuditLog(t.Context(), 1)
	if len(log) != 1 || log[0].Action != "reveal" || log[0].Detail != "gate-1/1" {
		t.Errorf("audit = %+v, want admin's reveal of gate-1/1", log)
	}
	op := env.client(t)
	op.signIn("op", opPW)
	if code, _, _ := op.post("/ops/reveal", url.Values{"csrf": {op.csrf("/ops/")}, "kiosk": {"gate-1"}, "seq": {"1"}}); code != http.StatusForbidden {
		t.Errorf("operator reveal = %d, want 403", code)
	}
	if code, _, _ := op.get("/ops/audit"); code != http.StatusForbidden {
		t.Errorf("operator audit = %d, want 403", code)
	}
	// The alert's detail carries no name; the bar escapes whatever it shows.
	_, body, _ = c.get("/ops/alerts")
	if strings.Contains(body, "<script>") {
		t.Errorf("alerts page has a raw <script>")
	}
}

func TestAlertLifeOnThePage(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	received := env.clock.Now().Add(-time.Minute)
	recordstest.SaveEntries(t, env.rec, received,
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAllow, Reasons: []string{protocol.ReasonPassValid}},
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAlert, Reasons: []string{protocol.ReasonFeverConfirmed}, Unit: "3-201",
			Temperature: &protocol.Reading{ObjectC: 38, ScreenedC: 38.2}},
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionDeny, Reasons: []string{protocol.ReasonPassRevoked}, Alert: true},
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAllow, Reasons: []string{protocol.ReasonUnderstaffed}},
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAllow, Reasons: []string{protocol.ReasonUnderstaffed}},
	)
	for range 2 { // a second poll finds nothing new and raises nothing twice
		env.poll(t)
	}
	open, _ := env.store.Alerts(t.Context(), 10, operators.StateOpen)
	var kinds []string
	for _, a := range open {
		kinds = append(kinds, a.Kind)
	}
	if len(open) != 3 {
		t.Fatalf("open alerts = %v, want fever, pass_revoked, post_understaffed (once)", kinds)
	}
	c := env.client(t)
	c.signIn("op", opPW)
	_, body, _ := c.get("/ops/onemap?site=huamu-001&day=2026-02-07")
	if !strings.Contains(body, `<span id="open-count">3</span>`) || !strings.Contains(body, "38.2 °C") {
		t.Errorf("open alerts are not at the top of every page")
	}
	var fever operators.Alert
	for _, a := range open {
		if a.Kind == protocol.AlertFever {
			fever = a
		}
	}
	path := fmt.Sprintf("/ops/alerts/%d", fever.ID)
	if code, _, _ := c.post(path, url.Values{"action": {"ack"}, "note": {"on my way"}}); code != http.StatusForbidden {
		t.Errorf("ack without CSRF = %d, want 403", code)
	}
	token := c.csrf("/ops/alerts")
	if code, _, h := c.post(path, url.Values{"csrf": {token}, "action": {"ack"}, "note": {"on my way"}}); code != http.StatusSeeOther ||
		h.Get("Location") != "/ops/alerts?done=1" {
		t.Errorf("ack = %d %s", code, h.Get("Location"))
	}
	if code, body, _ := c.post(path, url.Values{"csrf": {token}, "action": {"close"}, "note": {"  "}}); code != http.StatusBadRequest ||
		!strings.Contains(body, "needs a note") {
		t.Errorf("close without a note = %d, want 400 saying a note is needed", code)
	}
	if code, _, _ := c.post(path, url.Values{"csrf": {token}, "action": {"close"}, "note": {"clinical thermometer 36.8, let in"}}); code != http.StatusSeeOther {
		t.Errorf("close = %d", code)
	}
	a, _ := env.store.Alert(t.Context(), fever.ID)
	if a.State != operators.StateClosed || a.By != "op" || a.Note != "clinical thermometer 36.8, let in" {
		t.Errorf("alert after close = %+v", a)
	}
	for _, bad := range []struct{ path, action string }{{path, "close"}, {"/ops/alerts/x", "ack"}, {"/ops/alerts/999", "ack"}, {path, "explode"}} {
		code, _, _ := c.post(bad.path, url.Values{"csrf": {token}, "action": {bad.action}, "note": {"n"}})
		if code != http.StatusBadRequest && code != http.StatusConflict {
			t.Errorf("POST %s %s = %d, want 400 or 409", bad.path, bad.action, code)
		}
	}
	_, body, _ = c.get("/ops/alerts")
	if !strings.Contains(body, "clinical thermometer 36.8, let in") {
		t.Errorf("closed alert's note not listed")
	}
}

func TestOneMapPages(t *testing.T) {
	t.Parallel()
	env := newOps(t, seededPath(t))
	c := env.client(t)
	c.signIn("op", opPW)
	code, body, _ := c.get("/ops/onemap?site=huamu-002&day=2026-02-03")
	if code != http.StatusOK || !strings.Contains(body, "huamu-002 · 2026-02-03") || !strings.Contains(body, "双人在岗时长") {
		t.Errorf("one map = %d", code)
	}
	code, body, _ = c.get("/ops/onemap?month=2026-02")
	if code != http.StatusOK || strings.Count(body, `<a href="/ops/onemap?site=`) < 6*7 {
		t.Errorf("month = %d, want 6 compounds × 7 days", code)
	}
	for _, q := range []string{"?site=huamu-002&day=tomorrow", "?month=2026-13", "?site=a%20b"} {
		if code, _, _ := c.get("/ops/onemap" + q); code != http.StatusBadRequest {
			t.Errorf("GET /ops/onemap%s = %d, want 400", q, code)
		}
	}

	// The day as CSV: a row per building and the total, which adds up.
	code, body, _ = c.get("/ops/onemap.csv?site=huamu-002&day=2026-02-03")
	if code != http.StatusOK {
		t.Fatalf("one map CSV = %d %s", code, body)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(rows) < 3 || rows[0][2] != "building" || rows[len(rows)-1][2] != "total" {
		t.Fatalf("one map CSV = %v, %v", rows, err)
	}
	sums := make([]int, len(rows[0]))
	for _, r := range rows[1 : len(rows)-1] {
		for i := 3; i < len(r); i++ {
			n, _ := strconv.Atoi(r[i])
			sums[i] += n
		}
	}
	for i := 3; i < len(rows[0]); i++ {
		if total, _ := strconv.Atoi(rows[len(rows)-1][i]); total != sums[i] {
			t.Errorf("column %s: total %d, buildings add up to %d", rows[0][i], total, sums[i])
		}
	}
	if total, _ := strconv.Atoi(rows[len(rows)-1][3]); total == 0 {
		t.Error("the seeded day has no entries in the CSV")
	}
	if code, _, _ := c.get("/ops/onemap.csv?site=huamu-002&day=3%20Feb"); code != http.StatusBadRequest {
		t.Errorf("one map CSV with a bad day = %d, want 400", code)
	}
	log, err := env.c.OperatorStore().AuditLog(t.Context(), 10)
	if err != nil || !slices.ContainsFunc(log, func(a operators.AuditRecord) bool {
		return a.Action == "export_onemap" && a.Detail == "huamu-002 2026-02-03" && a.User == "op"
	}) {
		t.Errorf("audit log %+v, %v: want the one map export", log, err)
	}
}

func TestLanguage(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	c := env.client(t)
	_, body, _ := c.get("/ops/signin")
	if !strings.Contains(body, `lang="zh-CN"`) || !strings.Contains(body, "登录") {
		t.Errorf("sign-in is not Chinese first")
	}
	code, _, h := c.get("/ops/lang?to=en&back=/ops/signin")
	if code != http.StatusSeeOther || h.Get("Location") != "/ops/signin" {
		t.Errorf("lang = %d %s", code, h.Get("Location"))
	}
	_, body, _ = c.get("/ops/signin")
	if !strings.Contains(body, `lang="en"`) || !strings.Contains(body, "Sign in") {
		t.Errorf("sign-in did not switch to English")
	}
	for _, back := range []string{"//evil.example/", "https://evil.example/", "/ops/\\evil"} {
		if _, _, h := c.get("/ops/lang?to=en&back=" + url.QueryEscape(back)); h.Get("Location") != "/ops/" {
			t.Errorf("lang back=%s goes to %s, want /ops/", back, h.Get("Location"))
		}
	}
	if code, _, _ := c.get("/ops/lang?to=fr"); code != http.StatusBadRequest {
		t.Errorf("lang fr = %d, want 400", code)
	}
}

func TestCataloguesComplete(t *testing.T) {
	t.Parallel()
	msgs, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs["zh-CN"]) != len(msgs["en"]) {
		t.Errorf("zh-CN has %d messages, en %d", len(msgs["zh-CN"]), len(msgs["en"]))
	}
}

func TestLiveFeed(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	c := env.client(t)
	c.signIn("op", opPW)
	resp, err := c.http.Get(env.srv.URL + "/ops/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	if !lines.Scan() || lines.Text() != ": live" {
		t.Fatalf("first line = %q", lines.Text())
	}
	recordstest.SaveEntries(t, env.rec, env.clock.Now().Add(-time.Minute), protocol.Entry{Kind: protocol.KindVisitor, Decision: protocol.DecisionAllow,
		Visitor: &protocol.Visitor{Name: "王小明", Contact: "13812345678"}})
	env.poll(t)
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), "data: ") {
			if d := lines.Text(); !strings.Contains(d, `"who":"王*明"`) || strings.Contains(d, "13812345678") {
				t.Errorf("live entry = %s, want the name masked and no phone", d)
			}
			break
		}
	}
	env.c.Stop() // ends the stream
	for lines.Scan() {
	}
}

// The fleet page shows a kiosk's state; hub/alerts raises the alerts.
func TestFleetPage(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	recordstest.SaveEntries(t, env.rec, env.clock.Now().Add(-time.Hour), protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAllow})
	if _, err := env.rec.SaveStatus(t.Context(), protocol.Status{Kiosk: "gate-1", Site: "huamu-001", Online: false}, env.clock.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	c := env.client(t)
	c.signIn("op", opPW)
	code, body, _ := c.get("/ops/fleet")
	if code != http.StatusOK || !strings.Contains(body, "<td>gate-1</td>") || !strings.Contains(body, "离线") {
		t.Errorf("fleet page = %d, want gate-1 offline", code)
	}
}

// An entry made with a simulated device is marked in the entries table
// (taken only from a test site, it must still never pass for a real one).
func TestEntriesMarkSimulated(t *testing.T) {
	t.Parallel()
	env := newOps(t, filepath.Join(t.TempDir(), "hub.db"))
	real := protocoltest.Entry(protocoltest.Kiosk("gate-1"), protocoltest.Scan("REAL-1"), protocoltest.ID("0190d6e4-7a4b-7cc0-8b8e-000000000001"))
	real.Seq = 1
	sim := protocoltest.Entry(protocoltest.Kiosk("gate-1"), protocoltest.Scan("SIM-2"), protocoltest.ID("0190d6e4-7a4b-7cc0-8b8e-000000000002"))
	sim.Seq, sim.Simulated = 2, true
	if _, err := env.rec.SaveBatch(t.Context(), protocol.Batch{Kiosk: "gate-1", Site: "demo-1", Sent: seedStart,
		Entries: []protocol.Entry{real, sim}}, seedStart); err != nil {
		t.Fatal(err)
	}
	c := env.client(t)
	c.signIn("op", opPW)
	_, body, _ := c.get("/ops/")
	if n := strings.Count(body, `<span class="sim"`); n != 1 {
		t.Fatalf("the entries table marks %d entries simulated, want 1", n)
	}
}
