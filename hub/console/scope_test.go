package console

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
)

// scopeEnv is a hub with two compounds: A (huamu-001, gate-1, buildings
// 3 and 4) and B (west-9, kiosk kw-9, building 77). Users: opa, an
// operator scoped to A; lead, a building lead of A's building 3; admin.
type scopeEnv struct {
	*passEnv
	passA, passA4, passB passes.Pass
	alertB               int64
	entryA, entryB       records.Stored
	token                string // opa's API token
}

// markersB are what of B a page could show: its kiosk, its unit, its
// alert's detail and its pass holder's name (whole and masked).
var markersB = []string{"kw-9", "77-101", "MARK-WEST", "王西", "王*西"}

func saveOne(tb testing.TB, env *passEnv, site, kiosk, unit string, seq uint64) records.Stored {
	tb.Helper()
	at := env.clock.Now().Add(-10 * time.Minute)
	e := protocol.Entry{Kiosk: kiosk, Seq: seq, ID: fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%06x%06x", len(kiosk), seq),
		Time: at, Kind: protocol.KindCheck, Decision: protocol.DecisionAlert, Unit: unit,
		Reasons: []string{protocol.ReasonFeverConfirmed}, Temperature: &protocol.Reading{ObjectC: 38.2, ScreenedC: 38.2}}
	if _, err := env.rec.SaveBatch(tb.Context(), protocol.Batch{Kiosk: kiosk, Site: site, Sent: at, Entries: []protocol.Entry{e}}, at); err != nil {
		tb.Fatal(err)
	}
	return records.Stored{Entry: e, Site: site, Received: at}
}

func newScopeEnv(tb testing.TB) *scopeEnv {
	tb.Helper()
	env := &scopeEnv{passEnv: newPassEnv(tb, true)}
	ctx := tb.Context()
	env.entryA = saveOne(tb, env.passEnv, "huamu-001", "gate-1", "3-201", 2)
	env.entryB = saveOne(tb, env.passEnv, "west-9", "kw-9", "77-101", 1)
	issue := func(site, unit, name string) passes.Pass {
		p, err := env.passes.Issue(ctx, passes.Request{Kind: protocol.PassResident, Site: site, Unit: unit, Name: name,
			ValidFrom: passNow, ValidUntil: passNow.AddDate(0, 6, 0)})
		if err != nil {
			tb.Fatal(err)
		}
		return p
	}
	env.passA, env.passA4, env.passB = issue("huamu-001", "3-201", "张东"), issue("huamu-001", "4-101", "李北"), issue("west-9", "77-101", "王西")
	for _, a := range []operators.Alert{
		{Key: "t:east", Kind: "fever", Site: "huamu-001", Kiosk: "gate-1", Detail: "MARK-EAST"},
		{Key: "t:west", Kind: "fever", Site: "west-9", Kiosk: "kw-9", Detail: "MARK-WEST"},
	} {
		if _, err := env.store.Raise(ctx, a); err != nil {
			tb.Fatal(err)
		}
	}
	list, _ := env.store.Alerts(ctx, 10)
	for _, a := range list {
		if a.Site == "west-9" {
			env.alertB = a.ID
		}
	}
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(env.store.AddUser(ctx, "opa", opPW, false))
	must(env.store.SetScope(ctx, "opa", []string{"huamu-001"}))
	must(env.store.AddLead(ctx, "lead", opPW, "huamu-001", []string{"3"}))
	var err error
	env.token, err = env.store.AddToken(ctx, "opa-script", "opa")
	must(err)
	return env
}

// request is one request a route case makes, as B's outsider would.
type request struct {
	method, path string
	form         url.Values
}

// scopeCases has a case for every route of the console: the requests
// that try to reach compound B's data through it. A route added without
// a case here fails TestScopeEveryRoute.
func scopeCases(env *scopeEnv) map[string][]request {
	b := env.passB.ID
	get := func(paths ...string) []request {
		var out []request
		for _, p := range paths {
			out = append(out, request{method: http.MethodGet, path: p})
		}
		return out
	}
	post := func(path string, form url.Values) []request {
		return []request{{method: http.MethodPost, path: path, form: form}}
	}
	day := passNow.In(passes.Zone).Format(time.DateOnly)
	return map[string][]request{
		"GET /{$}":                     get("/"),
		"GET /healthz":                 get("/healthz"),
		"GET /readyz":                  get("/readyz"),
		"GET /ops/signin":              get("/ops/signin"),
		"POST /ops/signin":             post("/ops/signin", url.Values{"user": {"admin"}}),
		"GET /ops/lang":                get("/ops/lang?to=en&back=/ops/fleet"),
		"GET /ops/ops.css":             get("/ops/ops.css"),
		"GET /ops/ops.js":              get("/ops/ops.js"),
		"POST /ops/signout":            post("/ops/signout", url.Values{}), // without its CSRF token: refused, stays signed in
		"GET /ops/{$}":                 get("/ops/", "/ops/?site=west-9", "/ops/?kiosk=kw-9", "/ops/?fever=1"),
		"GET /ops/entries.csv":         get("/ops/entries.csv", "/ops/entries.csv?site=west-9", "/ops/entries.csv?kiosk=kw-9"),
		"POST /ops/reveal":             post("/ops/reveal", url.Values{"kiosk": {"kw-9"}, "seq": {"1"}}),
		"GET /ops/alerts":              get("/ops/alerts"),
		"POST /ops/alerts/{id}":        post("/ops/alerts/"+itoa(env.alertB), url.Values{"action": {"close"}, "note": {"done"}}),
		"GET /ops/onemap":              get("/ops/onemap", "/ops/onemap?site=west-9&day="+day, "/ops/onemap?month="+day[:7]),
		"GET /ops/onemap.csv":          get("/ops/onemap.csv?site=west-9&day=" + day),
		"GET /ops/fleet":               get("/ops/fleet"),
		"GET /ops/audit":               get("/ops/audit"),
		"GET /ops/events":              nil, // a stream: TestScopeLiveFeed
		"GET /ops/api/entries":         get("/ops/api/entries", "/ops/api/entries?limit=1000"),
		"GET /ops/api/kiosks":          get("/ops/api/kiosks"),
		"GET /ops/users":               get("/ops/users"),
		"POST /ops/users":              post("/ops/users", url.Values{"name": {"mole"}, "role": {"admin"}}),
		"POST /ops/users/{name}":       post("/ops/users/opa", url.Values{"action": {"scope"}, "sites": {"west-9"}}),
		"GET /ops/kiosks":              get("/ops/kiosks"),
		"POST /ops/kiosks":             post("/ops/kiosks", url.Values{"site": {"west-9"}, "fever_c": {"37.5"}}),
		"GET /ops/retention":           get("/ops/retention"),
		"POST /ops/retention":          post("/ops/retention", url.Values{"entries_days": {"1"}}),
		"POST /ops/fleet/enroll":       post("/ops/fleet/enroll", url.Values{"site": {"west-9"}, "kiosk": {"kw-10"}}),
		"POST /ops/fleet/retire":       post("/ops/fleet/retire", url.Values{"kiosk": {"kw-9"}, "confirm": {"yes"}}),
		"GET /ops/passes":              get("/ops/passes", "/ops/passes?site=west-9", "/ops/passes?site=huamu-001&unit=4-101"),
		"GET /ops/passes/new":          get("/ops/passes/new"),
		"POST /ops/passes":             post("/ops/passes", url.Values{"site": {"west-9"}, "unit": {"77-102"}, "kind": {"resident"}}),
		"POST /ops/passes/csv":         post("/ops/passes/csv", url.Values{"site": {"west-9"}}),
		"GET /ops/passes/sheet":        get("/ops/passes/sheet?id="+b, "/ops/passes/sheet?id="+env.passA4.ID),
		"GET /ops/passes/{id}":         get("/ops/passes/"+b, "/ops/passes/"+env.passA4.ID),
		"GET /ops/passes/{id}/qr.png":  get("/ops/passes/"+b+"/qr.png", "/ops/passes/"+env.passA4.ID+"/qr.png"),
		"POST /ops/passes/{id}/revoke": post("/ops/passes/"+b+"/revoke", url.Values{"reason": {"lost"}}),
		"POST /ops/passes/{id}/observation": append(
			post("/ops/passes/"+b+"/observation", url.Values{"action": {"set"}, "until": {"2026-03-14"}}),
			post("/ops/passes/"+env.passA4.ID+"/observation", url.Values{"action": {"set"}, "until": {"2026-03-14"}})...),
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// principal is who asks: a browser's session or a script's token.
type principal struct {
	name  string
	c     *client
	token string
	csrf  string
}

func (p principal) do(tb testing.TB, base string, rq request) (int, string) {
	tb.Helper()
	form := url.Values{}
	for k, v := range rq.form {
		form[k] = v
	}
	if rq.method == http.MethodPost && p.csrf != "" && rq.path != "/ops/signout" {
		form.Set("csrf", p.csrf)
	}
	var body io.Reader
	if rq.method == http.MethodPost {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(tb.Context(), rq.method, base+rq.path, body)
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	resp, err := p.c.http.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestScopeEveryRoute proves, for every route the console serves, that
// compound A's operator (signed in, or by API token) and A's building
// lead get nothing of compound B through it, and change nothing of B's.
func TestScopeEveryRoute(t *testing.T) {
	t.Parallel()
	env := newScopeEnv(t)
	cases := scopeCases(env)
	for _, rt := range env.c.routeTable() {
		if _, ok := cases[rt.Pattern]; !ok {
			t.Errorf("route %q has no scope case: add one to scopeCases saying what of compound B it could show", rt.Pattern)
		}
	}
	opa := env.client(t)
	if code := opa.signIn("opa", opPW); code != http.StatusSeeOther {
		t.Fatalf("opa signs in = %d", code)
	}
	lead := env.client(t)
	if code := lead.signIn("lead", opPW); code != http.StatusSeeOther {
		t.Fatalf("lead signs in = %d", code)
	}
	who := []principal{
		{name: "opa", c: opa, csrf: opa.csrf("/ops/alerts")},
		{name: "opa's token", c: env.client(t), token: env.token},
		{name: "lead", c: lead, csrf: lead.csrf("/ops/passes")},
	}
	for pattern, reqs := range cases {
		for _, rq := range reqs {
			for _, p := range who {
				code, body := p.do(t, env.srv.URL, rq)
				for _, m := range markersB {
					if !strings.Contains(rq.path, m) && strings.Contains(body, m) {
						t.Errorf("%s: %s %s = %d shows B's %q", p.name, rq.method, rq.path, code, m)
					}
				}
				if rq.method == http.MethodPost && code < 400 && pattern != "POST /ops/signin" {
					t.Errorf("%s: %s %s = %d, want a refusal", p.name, rq.method, rq.path, code)
				}
			}
		}
	}
	// Nothing of B changed, nor A's building 4 (not the lead's).
	if a, _ := env.store.Alert(t.Context(), env.alertB); a.State != operators.StateOpen {
		t.Errorf("B's alert = %s, want still open", a.State)
	}
	for _, p := range []passes.Pass{env.passB, env.passA4} {
		if got, _ := env.passes.Get(t.Context(), p.ID); got.Status != p.Status {
			t.Errorf("pass %s status = %s, want %s", p.ID, got.Status, p.Status)
		}
	}
	if u, _ := env.store.User(t.Context(), "opa"); len(u.Sites) != 1 || u.Sites[0] != "huamu-001" {
		t.Errorf("opa's scope = %v, want huamu-001 still", u.Sites)
	}

	// And each sees what is theirs, so the test above could fail.
	for _, c := range []struct {
		p    principal
		path string
		want []string
	}{
		{who[0], "/ops/", []string{"3-201", "gate-1"}},
		{who[0], "/ops/entries.csv", []string{"3-201"}},
		{who[0], "/ops/alerts", []string{"MARK-EAST"}},
		{who[0], "/ops/fleet", []string{"gate-1"}},
		{who[0], "/ops/onemap?site=huamu-001&day=" + passNow.In(passes.Zone).Format(time.DateOnly), []string{"huamu-001"}},
		{who[1], "/ops/api/entries", []string{`"unit":"3-201"`}},
		{who[1], "/ops/api/kiosks", []string{`"gate-1"`}},
		{who[2], "/ops/passes", []string{"3-201", "张*"}},
		{who[2], "/ops/passes/" + env.passA.ID, []string{"3-201"}},
	} {
		code, body := c.p.do(t, env.srv.URL, request{method: http.MethodGet, path: c.path})
		for _, w := range c.want {
			if code != http.StatusOK || !strings.Contains(body, w) {
				t.Errorf("%s: GET %s = %d, want 200 showing %q", c.p.name, c.path, code, w)
			}
		}
	}
	// The lead sets home observation on its own building, audited.
	code, _ := who[2].do(t, env.srv.URL, request{method: http.MethodPost, path: "/ops/passes/" + env.passA.ID + "/observation",
		form: url.Values{"action": {"set"}, "until": {"2026-03-14"}, "reason": {"returned from a key region"}}})
	if got, _ := env.passes.Get(t.Context(), env.passA.ID); code != http.StatusSeeOther || got.Status != protocol.StatusHomeObservation {
		t.Errorf("lead sets home observation on 3-201 = %d, status %s", code, got.Status)
	}
	lines, _ := env.store.AuditLog(t.Context(), 50)
	found := false
	for _, l := range lines {
		found = found || (l.User == "lead" && l.Action == "pass_home_observation" && strings.HasPrefix(l.Detail, env.passA.ID))
	}
	if !found {
		t.Errorf("the lead's change is not in the audit log: %+v", lines)
	}
}

// TestScopeLiveFeed: the live feed passes on an entry or alert of B to
// nobody scoped to A, by session or token.
func TestScopeLiveFeed(t *testing.T) {
	t.Parallel()
	env := newScopeEnv(t)
	opa := env.client(t)
	opa.signIn("opa", opPW)
	streams := map[string]*http.Request{}
	for name, bearer := range map[string]string{"session": "", "token": env.token} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, env.srv.URL+"/ops/events", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		streams[name] = req
	}
	var scanners []*bufio.Scanner
	for name, req := range streams {
		c := opa.http
		if name == "token" {
			c = env.client(t).http
		}
		resp, err := c.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s stream: %v %v", name, resp, err)
		}
		defer resp.Body.Close()
		s := bufio.NewScanner(resp.Body)
		if !s.Scan() || s.Text() != ": live" {
			t.Fatalf("%s stream's first line = %q", name, s.Text())
		}
		scanners = append(scanners, s)
	}
	env.c.EntryReceived(env.entryB)
	env.c.AlertRaised(operators.Alert{Kind: "fever", Site: "west-9", Kiosk: "kw-9", Detail: "MARK-WEST"})
	env.c.EntryReceived(env.entryA)
	for _, s := range scanners {
		for s.Scan() {
			line := s.Text()
			for _, m := range markersB {
				if strings.Contains(line, m) {
					t.Errorf("live feed sent B's %q: %s", m, line)
				}
			}
			if strings.Contains(line, "3-201") {
				break // A's entry came, after B's would have
			}
		}
	}
	env.c.Stop()
	for _, s := range scanners {
		for s.Scan() {
		}
	}
}

// An admin's API token reads, but never a pass's QR code or its sheet:
// the image is the pass. The refusal is audited; a signed-in admin's
// download is audited with the pass id.
func TestTokenGetsNoQR(t *testing.T) {
	t.Parallel()
	env := newScopeEnv(t)
	tok, err := env.store.AddToken(t.Context(), "admin-script", "admin")
	if err != nil {
		t.Fatal(err)
	}
	script := principal{name: "admin's token", c: env.client(t), token: tok}
	for _, path := range []string{"/ops/passes/" + env.passA.ID + "/qr.png", "/ops/passes/sheet?id=" + env.passA.ID} {
		code, body := script.do(t, env.srv.URL, request{method: http.MethodGet, path: path})
		if code != http.StatusForbidden || !strings.Contains(body, "the image is the pass") || strings.Contains(body, "PNG") {
			t.Errorf("token GET %s = %d %.80q, want 403 saying why", path, code, body)
		}
	}
	if code, _ := script.do(t, env.srv.URL, request{method: http.MethodGet, path: "/ops/passes/" + env.passA.ID}); code != http.StatusOK {
		t.Errorf("token GET the pass page = %d, want 200 (reading is allowed)", code)
	}
	admin := env.client(t)
	admin.signIn("admin", adminPW)
	if code, _, h := admin.get("/ops/passes/" + env.passA.ID + "/qr.png"); code != http.StatusOK || h.Get("Content-Type") != "image/png" {
		t.Errorf("admin GET qr.png = %d %s", code, h.Get("Content-Type"))
	}
	var actions []string
	lines, _ := env.store.AuditLog(t.Context(), 50)
	for _, l := range lines {
		if strings.HasPrefix(l.Action, "pass_qr") {
			actions = append(actions, l.Action+" "+l.User+" "+strings.Fields(l.Detail)[0])
		}
	}
	want := []string{"pass_qr admin " + env.passA.ID, "pass_qr_refused admin (token admin-script) /ops/passes/sheet",
		"pass_qr_refused admin (token admin-script) /ops/passes/" + env.passA.ID + "/qr.png"}
	if strings.Join(actions, "|") != strings.Join(want, "|") {
		t.Errorf("audit = %q, want %q", actions, want)
	}
}

// An admin scopes an operator and adds a building lead on the users page;
// both are audited, and bad input is refused with a sentence.
func TestUsersPageScopes(t *testing.T) {
	t.Parallel()
	env := newOps(t, t.TempDir()+"/hub.db")
	c := env.client(t)
	c.signIn("admin", adminPW)
	token := c.csrf("/ops/users")
	if code, _, _ := c.post("/ops/users/op", url.Values{"csrf": {token}, "action": {"scope"}, "sites": {"huamu-2, huamu-1"}}); code != http.StatusSeeOther {
		t.Fatalf("scope op = %d, want 303", code)
	}
	if u, _ := env.store.User(t.Context(), "op"); strings.Join(u.Sites, ",") != "huamu-1,huamu-2" {
		t.Errorf("op's scope = %v", u.Sites)
	}
	if _, body, _ := c.get("/ops/users"); !strings.Contains(body, `value="huamu-1, huamu-2"`) {
		t.Errorf("the users page does not show op's compounds")
	}
	for _, bad := range []url.Values{
		{"action": {"scope"}, "sites": {"bad site"}},
	} {
		bad.Set("csrf", token)
		if code, body, _ := c.post("/ops/users/op", bad); code != http.StatusBadRequest || !strings.Contains(body, "小区或楼栋未被接受") {
			t.Errorf("scope %v = %d, want 400 with a sentence", bad, code)
		}
	}
	if code, body, _ := c.post("/ops/users/admin", url.Values{"csrf": {token}, "action": {"scope"}, "sites": {"huamu-1"}}); code != http.StatusBadRequest || !strings.Contains(body, "admins see every compound") {
		t.Errorf("scope an admin = %d, want 400", code)
	}
	code, body, _ := c.post("/ops/users", url.Values{"csrf": {token}, "name": {"zhao"}, "role": {"building-lead"}, "site": {"huamu-1"}, "buildings": {"3,5"}})
	if code != http.StatusOK || !shownPW.MatchString(body) {
		t.Fatalf("add a building lead = %d", code)
	}
	if u, _ := env.store.User(t.Context(), "zhao"); !u.Lead || !u.SeesBuilding("huamu-1", "5") {
		t.Errorf("zhao = %+v, want a lead of huamu-1 buildings 3 and 5", u)
	}
	if code, body, _ := c.post("/ops/users", url.Values{"csrf": {token}, "name": {"qian"}, "role": {"building-lead"}, "site": {"huamu-1"}}); code != http.StatusBadRequest || !strings.Contains(body, "--buildings") {
		t.Errorf("add a lead without buildings = %d, want 400", code)
	}
	// The lead's buildings change on the users page; an operator takes no
	// buildings, and a lead's bad building is refused with a sentence.
	if _, body, _ := c.get("/ops/users"); !strings.Contains(body, `id="buildings-zhao" value="3, 5"`) {
		t.Errorf("the users page shows no buildings form for the lead zhao")
	}
	if code, _, _ := c.post("/ops/users/zhao", url.Values{"csrf": {token}, "action": {"lead"}, "site": {"huamu-1"}, "buildings": {"7, 3"}}); code != http.StatusSeeOther {
		t.Fatalf("set zhao's buildings = %d, want 303", code)
	}
	if u, _ := env.store.User(t.Context(), "zhao"); !u.Lead || strings.Join(u.Buildings, ",") != "3,7" || u.SeesBuilding("huamu-1", "5") {
		t.Errorf("zhao after the change = %+v, want buildings 3 and 7 of huamu-1", u)
	}
	for _, bad := range []struct {
		user string
		form url.Values
		want string
	}{
		{"op", url.Values{"site": {"huamu-1"}, "buildings": {"3"}}, "op is not a building lead"},
		{"zhao", url.Values{"site": {"huamu-1"}, "buildings": {"3 and a half"}}, "小区或楼栋未被接受"},
		{"zhao", url.Values{"site": {"huamu-1"}, "buildings": {""}}, "--buildings"},
	} {
		bad.form.Set("csrf", token)
		bad.form.Set("action", "lead")
		if code, body, _ := c.post("/ops/users/"+bad.user, bad.form); code != http.StatusBadRequest || !strings.Contains(body, bad.want) {
			t.Errorf("lead %s %v = %d, want 400 with %q", bad.user, bad.form, code, bad.want)
		}
	}
	var got []string
	for _, l := range audited(t, env.store) {
		if strings.Contains(l, " user_scope op sites=huamu-1,huamu-2") || strings.Contains(l, " user_add zhao role=building-lead site=huamu-1 buildings=3,5") ||
			strings.Contains(l, " user_lead zhao site=huamu-1 buildings=3,7") {
			got = append(got, l)
		}
	}
	if len(got) != 3 {
		t.Errorf("audit = %q, want the scope, the lead and the lead's new buildings", got)
	}
}
