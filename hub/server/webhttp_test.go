package server

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gatepost/gatepost/hub/pki"
)

// scrapeTokens holds, per hub, the admin token scrape made.
var scrapeTokens sync.Map

// scrape reads s's /metrics as Prometheus would: on their own listener,
// or on the console's port with an admin's API token.
func scrape(t *testing.T, s *Server) string {
	t.Helper()
	if s.web.metricsLn != nil {
		return httpGet(t, s.MetricsURL())
	}
	tok, ok := scrapeTokens.Load(s)
	if !ok {
		tok = apiToken(t, s, "prometheus", true)
		scrapeTokens.Store(s, tok)
	}
	status, body := getWith(t, s.MetricsURL(), tok.(string))
	if status != http.StatusOK {
		t.Fatalf("GET %s with an admin's token = %d %s", s.MetricsURL(), status, body)
	}
	return body
}

// apiToken adds a user (an admin or not) and an API token of theirs.
func apiToken(t *testing.T, s *Server, user string, admin bool) string {
	t.Helper()
	store := s.console.OperatorStore()
	if err := store.AddUser(t.Context(), user, "a long password 1", admin); err != nil {
		t.Fatal(err)
	}
	tok, err := store.AddToken(t.Context(), user+"-token", user)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// getWith GETs u with a bearer token ("" for none).
func getWith(t *testing.T, u, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestMetricsOnTheConsolePortNeedAnAdminsToken(t *testing.T) {
	s := open(t, Config{})
	if s.MetricsURL() != s.ConsoleURL()+"metrics" {
		t.Fatalf("MetricsURL = %s, want the console's", s.MetricsURL())
	}
	operator := apiToken(t, s, "op", false)
	for _, c := range []struct {
		name, token string
		status      int
		says        string
	}{
		{"no token", "", http.StatusUnauthorized, "--metrics-listen"},
		{"unknown token", "gpt_" + strings.Repeat("0", 64), http.StatusUnauthorized, "hub tokens add"},
		{"not a token", "hunter2", http.StatusUnauthorized, "hub tokens add"},
		{"an operator's token", operator, http.StatusForbidden, "admin"},
	} {
		status, body := getWith(t, s.MetricsURL(), c.token)
		if status != c.status || !strings.Contains(body, c.says) || strings.Contains(body, "gatepost_hub_") {
			t.Errorf("GET /metrics, %s = %d %q, want %d saying %q", c.name, status, body, c.status, c.says)
		}
	}
	if body := scrape(t, s); !strings.Contains(body, "gatepost_hub_batches_total") {
		t.Errorf("GET /metrics with an admin's token lacks the counters:\n%s", body)
	}
}

func TestMetricsOnTheirOwnListener(t *testing.T) {
	s := open(t, Config{MetricsListen: "127.0.0.1:0"})
	if strings.HasPrefix(s.MetricsURL(), s.ConsoleURL()) {
		t.Fatalf("MetricsURL = %s, on the console's port", s.MetricsURL())
	}
	if status, body := getWith(t, s.MetricsURL(), ""); status != 200 || !strings.Contains(body, "gatepost_hub_batches_total") {
		t.Errorf("GET %s without a token = %d, want 200 with the counters", s.MetricsURL(), status)
	}
	admin := apiToken(t, s, "admin", true)
	if status, body := getWith(t, s.ConsoleURL()+"metrics", admin); status == 200 && strings.Contains(body, "gatepost_hub_") {
		t.Errorf("the console's port still serves /metrics with --metrics-listen")
	}
}

func TestWebConfigRefusals(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		says string
	}{
		{Config{DataDir: "d", TLSCert: "c.pem"}, "--tls-cert/--tls-key"},
		{Config{DataDir: "d", TLSKey: "k.pem"}, "give both"},
		{Config{DataDir: "d", MetricsListen: "9108"}, "--metrics-listen"},
		{Config{DataDir: "d", MetricsListen: "127.0.0.1:8081", HTTPListen: "127.0.0.1:8081"}, "the console's address"},
	} {
		if err := c.cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Validate(%+v) = %v, want an error saying %q", c.cfg, err, c.says)
		}
	}
	f, err := ParseFile([]byte("metrics_listen = \"127.0.0.1:9108\"\nbehind_proxy = true\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c := f.Config(); c.MetricsListen != "127.0.0.1:9108" || !c.BehindProxy || c.TLSCert != "c.pem" || c.TLSKey != "k.pem" {
		t.Errorf("the file's web settings = %+v", c)
	}
	if _, err := ParseFile([]byte("tls_cert = \"c.pem\"\n")); err == nil || !strings.Contains(err.Error(), "tls_cert/tls_key") {
		t.Errorf("a file with tls_cert and no tls_key: %v", err)
	}
}

// consoleCert makes a CA and a certificate for 127.0.0.1 with hub/pki,
// outside the hub's data folder, and returns the files and a client
// trusting the CA.
func consoleCert(t *testing.T) (cert, key string, c *http.Client) {
	t.Helper()
	dir := t.TempDir()
	files, err := pki.Init(dir, pki.Options{Names: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(files.CA)
	jar, _ := cookiejar.New(nil)
	c = &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(c.CloseIdleConnections)
	return filepath.Join(dir, pki.Dir, pki.ServerCert), filepath.Join(dir, pki.Dir, pki.ServerKey), c
}

func TestConsoleOverTLS(t *testing.T) {
	cert, key, c := consoleCert(t)
	s := open(t, Config{TLSCert: cert, TLSKey: key})
	if !strings.HasPrefix(s.ConsoleURL(), "https://127.0.0.1:") {
		t.Fatalf("ConsoleURL = %s, want https://", s.ConsoleURL())
	}
	resp, err := c.Get(s.ConsoleURL() + "ops/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("GET ops/signin over TLS = %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	if h := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=") {
		t.Errorf("Strict-Transport-Security = %q", h)
	}
	cookies := resp.Header.Values("Set-Cookie")
	if len(cookies) == 0 {
		t.Fatal("the sign-in page set no cookie")
	}
	for _, ck := range cookies {
		if !strings.Contains(ck, "; Secure") {
			t.Errorf("cookie over TLS not Secure: %s", ck)
		}
	}
	// Plain HTTP to the TLS port is not served.
	plain := "http://" + strings.TrimPrefix(s.ConsoleURL(), "https://") + "ops/signin"
	if resp, err := http.Get(plain); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("GET %s in clear = 200", plain)
		}
	}
	// The metrics token works over TLS too.
	tok := apiToken(t, s, "admin", true)
	req, _ := http.NewRequest("GET", s.MetricsURL(), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET %s with an admin's token = %d", s.MetricsURL(), resp.StatusCode)
	}
}

func TestConsoleTLSFilesThatDoNotLoad(t *testing.T) {
	cert, _, _ := consoleCert(t)
	cfg := Config{DataDir: t.TempDir(), MQTTListen: "127.0.0.1:0", HTTPListen: "127.0.0.1:0", TLSCert: cert, TLSKey: cert}
	s, err := Open(t.Context(), cfg)
	if err == nil {
		s.Close()
		t.Fatal("Open with a certificate as its own key succeeded")
	}
	if !strings.Contains(err.Error(), "--tls-cert") || !strings.Contains(err.Error(), cert) {
		t.Errorf("Open = %v, want an error naming the flag and the file", err)
	}
}

func TestConsoleBehindAProxy(t *testing.T) {
	s := open(t, Config{BehindProxy: true})
	resp, err := http.Get(s.ConsoleURL() + "ops/signin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("behind a proxy the hub sent HSTS itself (the proxy's job)")
	}
	for _, ck := range resp.Header.Values("Set-Cookie") {
		if !strings.Contains(ck, "; Secure") {
			t.Errorf("cookie behind a TLS proxy not Secure: %s", ck)
		}
	}
	// A failed sign-in through the proxy (on loopback) is audited with
	// the client's address the proxy gave.
	csrf := regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`).FindSubmatch(body)
	if csrf == nil {
		t.Fatal("no csrf field on the sign-in page")
	}
	form := url.Values{"csrf": {string(csrf[1])}, "user": {"nobody"}, "password": {"wrong"}}
	req, _ := http.NewRequest("POST", s.ConsoleURL()+"ops/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "198.51.100.9, 203.0.113.7")
	for _, ck := range resp.Cookies() {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	log, err := s.console.OperatorStore().AuditLog(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range log {
		found = found || (a.Action == "sign_in_failed" && a.Detail == "203.0.113.7")
	}
	if !found {
		t.Errorf("sign-in status %d; audit %+v: want sign_in_failed from 203.0.113.7 (the address the proxy added)", resp.StatusCode, log)
	}
}

func TestFromProxyBelievesOnlyLoopback(t *testing.T) {
	for _, c := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"127.0.0.1:5000", []string{"203.0.113.7"}, "203.0.113.7:0"},
		{"[::1]:5000", []string{"1.1.1.1, 203.0.113.7"}, "203.0.113.7:0"},
		{"127.0.0.1:5000", []string{"1.1.1.1", "2001:db8::1"}, "[2001:db8::1]:0"},
		{"127.0.0.1:5000", nil, "127.0.0.1:5000"},
		{"127.0.0.1:5000", []string{"not an address"}, "127.0.0.1:5000"},
		{"192.0.2.4:5000", []string{"203.0.113.7"}, "192.0.2.4:5000"}, // a stranger writing the header
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := fromProxy(r).RemoteAddr; got != c.want {
			t.Errorf("fromProxy(%s, X-Forwarded-For %q).RemoteAddr = %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}
