package screen

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
)

// pageKey reads the screen key from the page at base, as the page's own
// script does.
func pageKey(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`<meta name="gatepost-screen" content="([0-9a-f]{64})">`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("GET %s/: no screen key in the page:\n%s", base, body)
	}
	return string(m[1])
}

// guarded is a screen with forms and its real HTTP server.
func guarded(t *testing.T) (*Server, *fakeGate, *httptest.Server) {
	t.Helper()
	g := &fakeGate{}
	s := New(State{}, slog.New(slog.DiscardHandler))
	s.clock = clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.Local))
	s.Serve(g, testCompound())
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, g, srv
}

// postRoutes are the POST routes the screen serves, from its own list.
func postRoutes(t *testing.T, s *Server) []string {
	t.Helper()
	var paths []string
	for _, p := range s.routes {
		if path, ok := strings.CutPrefix(p, "POST "); ok {
			paths = append(paths, path)
		}
	}
	if len(paths) < 4 {
		t.Fatalf("POST routes = %v, want at least seen, visitor, delivery, mode", paths)
	}
	return paths
}

// validBodies is an honest body for each POST route, so a refusal can
// only come from the guard.
var validBodies = map[string]string{
	"/api/seen":     `{"seq":7}`,
	"/api/mode":     `{"kind":"sign_in"}`,
	"/api/delivery": `{"count":2}`,
	"/api/visitor":  `{"from":"上海","building":"3","room":"502","purpose":"family","name":"陈先生","phone":"13800000000"}`,
}

func TestScreenRefusesPostsNotFromItsPage(t *testing.T) {
	s, g, srv := guarded(t)
	key := pageKey(t, srv.URL)
	stale := newSecret()
	cases := []struct {
		name   string
		header map[string]string
	}{
		{"cross-origin with the key", map[string]string{"Origin": "http://evil.example", "Content-Type": "application/json", secretHeader: key}},
		{"cross-origin form post", map[string]string{"Origin": "http://evil.example", "Content-Type": "text/plain"}},
		{"no key", map[string]string{"Origin": srv.URL, "Content-Type": "application/json"}},
		{"wrong key", map[string]string{"Origin": srv.URL, "Content-Type": "application/json", secretHeader: stale}},
		{"key of another length", map[string]string{"Content-Type": "application/json", secretHeader: key[:10]}},
		{"not JSON", map[string]string{"Origin": srv.URL, "Content-Type": "text/plain", secretHeader: key}},
		{"no content type", map[string]string{"Origin": srv.URL, secretHeader: key}},
		{"null origin", map[string]string{"Origin": "null", "Content-Type": "application/json", secretHeader: key}},
	}
	paths := postRoutes(t, s)
	refused := 0
	for _, path := range paths {
		body, ok := validBodies[path]
		if !ok {
			t.Fatalf("POST %s: a new route: give it a valid body in validBodies", path)
		}
		for _, c := range cases {
			req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var fe formError
			json.NewDecoder(resp.Body).Decode(&fe)
			resp.Body.Close()
			refused++
			if resp.StatusCode != http.StatusForbidden || fe.Key != "err_not_this_page" || !strings.Contains(fe.Message, "Reload") {
				t.Errorf("POST %s (%s) = %d %+v, want 403 err_not_this_page with a sentence", path, c.name, resp.StatusCode, fe)
			}
		}
	}
	if len(g.modes)+len(g.counts)+len(g.visitors) != 0 || s.State().Seen != 0 {
		t.Errorf("refused posts reached the gate: modes %v, counts %v, visitors %d, seen %d", g.modes, g.counts, len(g.visitors), s.State().Seen)
	}
	if got := s.Refused(); got != uint64(refused) {
		t.Errorf("Refused() = %d, want %d", got, refused)
	}
}

func TestScreenTakesPostsFromItsPage(t *testing.T) {
	s, g, srv := guarded(t)
	for _, path := range postRoutes(t, s) {
		status, fe := postJSON(t, srv.URL+path, validBodies[path])
		if status != http.StatusOK {
			t.Errorf("POST %s from the page = %d %+v, want 200", path, status, fe)
		}
	}
	// Without an Origin (an older browser, curl on the kiosk) the key and
	// JSON are enough.
	req, _ := http.NewRequest("POST", srv.URL+"/api/seen", strings.NewReader(`{"seq":9}`))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set(secretHeader, pageKey(t, srv.URL))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || s.State().Seen != 9 {
		t.Errorf("POST /api/seen with key, no Origin = %d, seen %d; want 200, 9", resp.StatusCode, s.State().Seen)
	}
	if len(g.modes) != 1 || len(g.counts) != 1 || len(g.visitors) != 1 || s.Refused() != 0 {
		t.Errorf("gate saw modes %v counts %v visitors %d; refused %d", g.modes, g.counts, len(g.visitors), s.Refused())
	}
}

func TestScreenKeyIsNewEachStart(t *testing.T) {
	_, _, a := guarded(t)
	_, _, b := guarded(t)
	if pageKey(t, a.URL) == pageKey(t, b.URL) {
		t.Fatal("two screens served the same key")
	}
	// A page from before a restart holds the old key: refused, and its
	// script reads the new one from the page and tries again.
	req, _ := http.NewRequest("POST", b.URL+"/api/seen", strings.NewReader(`{"seq":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(secretHeader, pageKey(t, a.URL))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST with another start's key = %d, want 403", resp.StatusCode)
	}
}

func TestScreenRefusesHostNames(t *testing.T) {
	// DNS rebinding: a stranger's page whose name now points here would be
	// "same origin" with itself; the screen answers addresses only.
	_, _, srv := guarded(t)
	for host, want := range map[string]int{
		"evil.example:8080": http.StatusForbidden,
		"evil.example":      http.StatusForbidden,
		"localhost:8080":    http.StatusOK,
		"127.0.0.1:8080":    http.StatusOK,
		"[::1]:8080":        http.StatusOK,
		"192.168.1.20":      http.StatusOK,
		":8080":             http.StatusOK, // kiosk status with screen.listen = ":8080"
	} {
		req, _ := http.NewRequest("GET", srv.URL+"/api/state", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var fe formError
		json.NewDecoder(resp.Body).Decode(&fe)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET /api/state with Host %q = %d, want %d", host, resp.StatusCode, want)
		}
		if want == http.StatusForbidden && (fe.Key != "err_screen_host" || !strings.Contains(fe.Message, "127.0.0.1")) {
			t.Errorf("GET /api/state with Host %q refused with %+v, want a sentence naming an address", host, fe)
		}
	}
}

func TestScreenSecurityHeaders(t *testing.T) {
	_, _, srv := guarded(t)
	for _, path := range []string{"/", "/assets/screen.js", "/api/state", "/nowhere"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: Content-Security-Policy = %q", path, csp)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if h.Get(k) != v {
				t.Errorf("GET %s: %s = %q, want %q", path, k, h.Get(k), v)
			}
		}
		if path == "/" && regexp.MustCompile(`(?i)<script>|<style|\sstyle="|\son[a-z]+="`).Match(body) {
			t.Errorf("the page has inline script or style, which its policy forbids")
		}
	}
}

func TestScreenRefusalLogIsRateLimited(t *testing.T) {
	var logs strings.Builder
	s := New(State{}, slog.New(slog.NewTextHandler(&logs, nil)))
	clk := clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	s.clock = clk
	srv := httptest.NewServer(s)
	defer srv.Close()
	post := func() {
		resp, err := http.Post(srv.URL+"/api/seen", "application/json", strings.NewReader(`{"seq":1}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for range 50 {
		post()
	}
	clk.Advance(time.Minute)
	post()
	if n := strings.Count(logs.String(), "screen refused"); n != 2 {
		t.Errorf("51 refusals over a minute logged %d times, want 2:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "refused_since_last_log=49") {
		t.Errorf("the second log line does not count the refusals between:\n%s", logs.String())
	}
	if s.Refused() != 51 {
		t.Errorf("Refused() = %d, want 51", s.Refused())
	}
}

// Every route goes through Server.handle, so postRoutes sees it and the
// tests above cover it.
func TestRoutesAreAddedOnlyThroughHandle(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += strings.Count(string(src), "mux.Handle")
	}
	if n != 1 {
		t.Errorf("mux.Handle appears %d times in the screen's code, want once (in Server.handle): add routes with s.handle", n)
	}
}
