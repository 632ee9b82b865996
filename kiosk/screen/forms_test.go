package screen

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/kiosk/words"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
)

// fakeGate records what the forms asked for.
type fakeGate struct {
	visitors []Visitor
	counts   []int
	modes    []string
	err      error
}

func (g *fakeGate) Visitor(_ context.Context, v Visitor) error {
	g.visitors = append(g.visitors, v)
	return g.err
}
func (g *fakeGate) Delivery(_ context.Context, n int) error {
	g.counts = append(g.counts, n)
	return g.err
}
func (g *fakeGate) SetMode(_ context.Context, kind, area string) error {
	g.modes = append(g.modes, kind+"/"+area)
	return g.err
}
func (g *fakeGate) Refresh(context.Context) {}

func testCompound() Compound {
	return Compound{Buildings: []string{"1", "3"}, Floors: 6, UnitsPerFloor: 4,
		Regions: []Region{{Name: "上海"}, {Name: "湖北", Key: true}}, Areas: []string{"lift_buttons", "gate"}}
}

func postJSON(t *testing.T, url, body string) (int, formError) {
	t.Helper()
	base := url[:strings.Index(url, "/api/")]
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", base)
	req.Header.Set(secretHeader, pageKey(t, base))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var fe formError
	json.NewDecoder(resp.Body).Decode(&fe)
	return resp.StatusCode, fe
}

func TestVisitorFormValidation(t *testing.T) {
	g := &fakeGate{}
	s := New(State{}, slog.New(slog.DiscardHandler))
	s.clock = clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.Local))
	s.Serve(g, testCompound())
	srv := httptest.NewServer(s)
	defer srv.Close()
	good := `{"from":"湖北","building":"3","room":"502","purpose":"family","returnee":true,"returned":"2026-02-27","name":" 陈先生 ","phone":"138 0000-0000"}`
	for _, c := range []struct {
		name, body string
		status     int
		field, key string
	}{
		{"good", good, 200, "", ""},
		{"not json", `{"from":`, 400, "", "err_request"},
		{"unknown field", `{"from":"上海","evil":1}`, 400, "", "err_request"},
		{"region not offered", strings.Replace(good, "湖北", "<script>", 1), 400, "from", "err_from"},
		{"no such building", strings.Replace(good, `"building":"3"`, `"building":"9"`, 1), 400, "building", "err_building"},
		{"floor too high", strings.Replace(good, "502", "702", 1), 400, "room", "err_room"},
		{"unit too high", strings.Replace(good, "502", "505", 1), 400, "room", "err_room"},
		{"room not a number", strings.Replace(good, "502", "5a2", 1), 400, "room", "err_room"},
		{"purpose", strings.Replace(good, "family", "burglary", 1), 400, "purpose", "err_purpose"},
		{"return date in the future", strings.Replace(good, "2026-02-27", "2026-03-02", 1), 400, "returned", "err_returned"},
		{"return date long ago", strings.Replace(good, "2026-02-27", "2025-11-01", 1), 400, "returned", "err_returned"},
		{"return date garbage", strings.Replace(good, "2026-02-27", "yesterday", 1), 400, "returned", "err_returned"},
		{"no name", strings.Replace(good, " 陈先生 ", "  ", 1), 400, "name", "err_name"},
		{"name with control", strings.Replace(good, " 陈先生 ", `陈\u001b[2J`, 1), 400, "name", "err_name"},
		{"name too long", strings.Replace(good, " 陈先生 ", strings.Repeat("陈", 33), 1), 400, "name", "err_name"},
		{"phone letters", strings.Replace(good, "138 0000-0000", "call me", 1), 400, "phone", "err_phone"},
		{"phone short", strings.Replace(good, "138 0000-0000", "12345", 1), 400, "phone", "err_phone"},
	} {
		status, fe := postJSON(t, srv.URL+"/api/visitor", c.body)
		if status != c.status || fe.Field != c.field || fe.Key != c.key {
			t.Errorf("%s: POST /api/visitor = %d %q %q, want %d %q %q", c.name, status, fe.Field, fe.Key, c.status, c.field, c.key)
		}
		if c.key != "" && (fe.Message == "" || strings.Contains(fe.Message, c.key)) {
			t.Errorf("%s: message %q is not a sentence from the catalogues", c.name, fe.Message)
		}
	}
	want := Visitor{Name: "陈先生", Phone: "13800000000", From: "湖北", Visiting: "3-502", Purpose: "探亲", Returnee: true, Returned: "2026-02-27"}
	if len(g.visitors) != 1 || g.visitors[0] != want {
		t.Errorf("gate got %+v, want only %+v", g.visitors, want)
	}
	g.err = ErrNotRecorded
	if status, fe := postJSON(t, srv.URL+"/api/visitor", good); status != 503 || fe.Key != "err_not_recorded" {
		t.Errorf("journal failure: %d %q, want 503 err_not_recorded", status, fe.Key)
	}
	g.err = errors.New("disk on fire")
	if status, fe := postJSON(t, srv.URL+"/api/visitor", good); status != 500 || fe.Key != "err_internal" || strings.Contains(fe.Message, "fire") {
		t.Errorf("other failure: %d %q %q, want 500 err_internal without the Go error", status, fe.Key, fe.Message)
	}
}

func TestDeliveryModeAndSeen(t *testing.T) {
	g := &fakeGate{}
	s := New(State{}, slog.New(slog.DiscardHandler))
	s.Serve(g, testCompound())
	srv := httptest.NewServer(s)
	defer srv.Close()
	for _, c := range []struct {
		path, body string
		status     int
	}{
		{"/api/delivery", `{"count":1}`, 200},
		{"/api/delivery", `{"count":0}`, 400},
		{"/api/delivery", `{"count":"many"}`, 400},
		{"/api/mode", `{"kind":"sign_in"}`, 200},
		{"/api/mode", `{"kind":"disinfect","area":"gate"}`, 200},
		{"/api/mode", `{"kind":"disinfect","area":"roof"}`, 400},
		{"/api/mode", `{"kind":"self_destruct"}`, 400},
		{"/api/mode", `{"kind":""}`, 200},
		{"/api/seen", `{"seq":7}`, 200},
		{"/api/seen", `{"seq":3}`, 200},
	} {
		if status, fe := postJSON(t, srv.URL+c.path, c.body); status != c.status {
			t.Errorf("POST %s %s = %d %+v, want %d", c.path, c.body, status, fe, c.status)
		}
	}
	if !slices.Equal(g.counts, []int{1}) || !slices.Equal(g.modes, []string{"sign_in/", "disinfect/gate", "/"}) {
		t.Errorf("gate got counts %v modes %v", g.counts, g.modes)
	}
	if seen := s.State().Seen; seen != 7 {
		t.Errorf("Seen = %d, want 7 (an older ack does not lower it)", seen)
	}
}

// TestPageKeysInCatalogues holds every key the page uses to a message in
// the kiosk's catalogues (kiosk/words holds them to the same keys).
func TestPageKeysInCatalogues(t *testing.T) {
	zh := words.Catalogue("zh-CN")
	used := map[string]bool{}
	html, _ := assets.ReadFile("assets/index.html")
	js, _ := assets.ReadFile("assets/screen.js")
	for _, m := range regexp.MustCompile(`data-i18n="([a-z_]+)"`).FindAllSubmatch(html, -1) {
		used[string(m[1])] = true
	}
	for _, m := range regexp.MustCompile(`\bt\("([a-z_]+)"[,)]`).FindAllSubmatch(js, -1) {
		used[string(m[1])] = true
	}
	// Keys built from codes: every code the daemon or rules can send.
	for prefix, codes := range map[string][]string{
		"dec_":      {"allow", "deny", "alert", "remeasure", "record", "allow_reported", "deny_reported", "remeasure_reported", "record_reported"},
		"kind_":     {"check", "visitor", "delivery", "disinfection", "shift_in", "shift_out"},
		"mode_":     {ModeSignIn, ModeSignOut, ModeDisinfect},
		"purpose_":  Purposes,
		"area_":     protocol.Areas,
		"q_":        {"from", "building", "floor", "room", "purpose", "returnee", "returned", "contact"},
		"field_":    {"name", "phone"},
		"dev_":      {"thermometer", "scanner"},
		"devstate_": {"connected", "disconnected", "error"},
		"err_":      {"request", "not_recorded", "internal", "no_daemon", "from", "building", "room", "purpose", "returned", "name", "phone", "count", "area"},
	} {
		for _, c := range codes {
			used[prefix+c] = true
		}
	}
	if len(used) < 60 {
		t.Fatalf("found only %d keys in the page: has the pattern drifted?", len(used))
	}
	for k := range used {
		if zh[k] == "" {
			t.Errorf("the page uses %q, missing from the catalogues", k)
		}
	}
}

// TestPageSetsNoHTML keeps hostile text (a visitor's name, a scanned code)
// from ever being parsed as HTML by the page.
func TestPageSetsNoHTML(t *testing.T) {
	js, _ := assets.ReadFile("assets/screen.js")
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(string(js), bad) {
			t.Errorf("screen.js uses %s: set text with textContent", bad)
		}
	}
}
