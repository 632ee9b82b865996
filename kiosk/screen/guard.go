package screen

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The page and the daemon share a secret made at each start: the page
// carries it in a meta tag and sends it back on every POST in this header.
// A page of another origin cannot read it (no CORS), so it cannot send it.
const (
	secretHeader = "X-Gatepost-Screen"
	secretMeta   = "{{SCREEN_SECRET}}" // replaced in index.html as it is served
)

// contentSecurityPolicy lets the page load only its own files: no inline
// script or style, no frames around it, no forms posting elsewhere.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// guard holds what the screen checks each request against, and counts
// what it refuses.
type guard struct {
	secret  string
	refused atomic.Uint64
	mu      sync.Mutex
	lastLog time.Time
	unlog   uint64 // refusals since the last one logged
}

func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics rather than return weak bytes)
	return hex.EncodeToString(b)
}

// Refused is how many requests the screen refused because they did not
// come from its own page (for the kiosk's /metrics).
func (s *Server) Refused() uint64 { return s.guard.refused.Load() }

// securityHeaders are sent with every answer.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

// admit says why r is refused, "" when it may go on, and the catalogue
// key of the sentence the refusal carries. Every request must
// name the screen by an address, not a domain name (a page that rebinds
// its own name to this machine would otherwise be "same origin"); every
// request that changes something must also come from the page's own
// origin, as JSON, with this start's secret.
func (s *Server) admit(r *http.Request) (why, key string) {
	if !addressHost(r.Host) {
		return "host is a name, not an address", "err_screen_host"
	}
	return s.admitChange(r), "err_not_this_page"
}

// admitChange says why r is refused if it would change something.
func (s *Server) admitChange(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return ""
	}
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
		return "cross-origin"
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return "not JSON"
	}
	got := r.Header.Get(secretHeader)
	if got == "" {
		return "no screen key"
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(s.guard.secret)) != 1 {
		return "wrong screen key (a page from before the kiosk restarted?)"
	}
	return ""
}

// addressHost reports whether host (the Host header, with or without a
// port) is an IP address or localhost, or empty (a client given only
// ":8080"; a browser always names a host).
func addressHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return net.ParseIP(host) != nil || host == "localhost" || host == ""
}

// refuse403 answers a refused request and logs it, at most once a minute
// with how many were refused since.
func (s *Server) refuse403(w http.ResponseWriter, r *http.Request, why, key string) {
	s.guard.refused.Add(1)
	g := &s.guard
	g.mu.Lock()
	now := s.clock.Now()
	logIt := g.lastLog.IsZero() || now.Sub(g.lastLog) >= time.Minute
	n := g.unlog
	if logIt {
		g.lastLog, g.unlog = now, 0
	} else {
		g.unlog++
	}
	g.mu.Unlock()
	if logIt {
		s.log.Warn("screen refused a request that did not come from its own page",
			"method", r.Method, "path", r.URL.Path, "why", why, "from", r.RemoteAddr,
			"origin", r.Header.Get("Origin"), "refused_since_last_log", n)
	}
	writeJSON(w, http.StatusForbidden, &formError{Key: key, Message: Message(key)})
}

// page serves index.html with this start's secret in it.
func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	data, err := assets.ReadFile("assets/index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(bytes.Replace(data, []byte(secretMeta), []byte(s.guard.secret), 1))
}
