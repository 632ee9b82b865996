package console

import (
	"context"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
)

const (
	sessionCookie = "gp_session"
	// preCSRFCookie carries the sign-in form's CSRF token before there is
	// a session (double submit: the form's field must equal the cookie).
	preCSRFCookie = "gp_csrf"
	// deviceCookie marks a browser that signed in before (lockout.go).
	deviceCookie = "gp_device"
	deviceLife   = 365 * 24 * time.Hour
)

type sessionKey struct{}

func sessionFrom(ctx context.Context) (operators.Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(operators.Session)
	return s, ok
}

// auth wraps h: no session sends a page to sign-in (an API request gets
// 401); a user whose role rs does not hold is refused; every POST must
// carry the session's CSRF token. The session, and so the user's scope
// (access.go), rides in the request's context.
func (o *Console) auth(rs roles, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sess operators.Session
		err := operators.ErrNoSession
		if c, cerr := r.Cookie(sessionCookie); cerr == nil {
			sess, err = o.store.Session(r.Context(), c.Value)
		}
		if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && errors.Is(err, operators.ErrNoSession) {
			// A script's API token: the user's role, reading only.
			var label string
			sess, label, err = o.store.TokenSession(r.Context(), strings.TrimSpace(bearer))
			switch {
			case errors.Is(err, operators.ErrNoToken):
				o.log.Warn("console: refused an unknown or revoked API token", "path", r.URL.Path, "remote", r.RemoteAddr)
				http.Error(w, "Unknown or revoked API token, or its user is disabled.", http.StatusUnauthorized)
				return
			case err != nil:
				o.fail(w, "read the API token", err)
				return
			case r.Method != http.MethodGet && r.Method != http.MethodHead:
				http.Error(w, "API tokens only read: sign in to change anything.", http.StatusForbidden)
				return
			}
			sess.User.Name += " (token " + label + ")"
		}
		if err != nil {
			if !errors.Is(err, operators.ErrNoSession) {
				o.fail(w, "read the session", err)
				return
			}
			if r.Method == http.MethodGet && r.URL.Path != "/ops/events" && !strings.HasSuffix(r.URL.Path, ".csv") &&
				!strings.HasPrefix(r.URL.Path, "/ops/api/") {
				http.Redirect(w, r, "/ops/signin", http.StatusSeeOther)
				return
			}
			http.Error(w, "Sign in first.", http.StatusUnauthorized)
			return
		}
		ctx := context.WithValue(r.Context(), sessionKey{}, sess)
		r = r.WithContext(ctx)
		if r.Method == http.MethodPost && !o.csrfOK(r, sess.CSRF) {
			o.refuseCSRF(w, r)
			return
		}
		if roleOf(sess.User)&rs == 0 {
			o.refuseRole(w, r, sess.User, rs)
			return
		}
		h(w, r)
	})
}

// csrfOK checks the form's csrf field against want, and that a browser's
// Origin, when it sends one, is this host.
func (o *Console) csrfOK(r *http.Request, want string) bool {
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host != r.Host {
			o.log.Warn("console: refused a form from another origin", "origin", origin, "host", r.Host, "path", r.URL.Path)
			return false
		}
	}
	got := r.PostFormValue("csrf")
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		o.log.Warn("console: refused a form without its CSRF token", "path", r.URL.Path, "sent", got != "", "expected", want != "")
		return false
	}
	return true
}

func (o *Console) refuseCSRF(w http.ResponseWriter, r *http.Request) {
	v := view{}
	v.Error = o.msgs[requestLang(r)]["csrf.refused"]
	if _, ok := sessionFrom(r.Context()); ok {
		o.render(w, r, http.StatusForbidden, "alerts", o.alertsView(r, v))
		return
	}
	o.render(w, r, http.StatusForbidden, "signin", o.signInView(w, r, v))
}

func (o *Console) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/ops/", HttpOnly: true,
		Secure: o.cfg.SecureCookies, SameSite: http.SameSiteStrictMode, MaxAge: int(maxAge.Seconds())}
}

// signInView sets a fresh pre-session CSRF cookie and puts its token in
// the form.
func (o *Console) signInView(w http.ResponseWriter, _ *http.Request, v view) view {
	token := operators.NewToken()
	http.SetCookie(w, o.cookie(preCSRFCookie, token, time.Hour))
	v.CSRF = token
	return v
}

func (o *Console) serveSignIn(w http.ResponseWriter, r *http.Request) {
	o.render(w, r, http.StatusOK, "signin", o.signInView(w, r, view{}))
}

func (o *Console) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	want := ""
	if c, err := r.Cookie(preCSRFCookie); err == nil {
		want = c.Value
	}
	if !o.csrfOK(r, want) {
		o.refuseCSRF(w, r)
		return
	}
	name, password := strings.TrimSpace(r.PostFormValue("user")), r.PostFormValue("password")
	ip := clientIP(r)
	msgs := o.msgs[requestLang(r)]
	device := ""
	if c, err := r.Cookie(deviceCookie); err == nil && o.store.KnownDevice(r.Context(), c.Value, name) {
		device = c.Value
	}
	allowed, err := o.limiter.allow(r.Context(), ip, name, device)
	if err != nil {
		o.fail(w, "check the sign-in limits", err)
		return
	}
	if !allowed {
		o.store.Audit(r.Context(), name, "sign_in_limited", ip)
		o.render(w, r, http.StatusTooManyRequests, "signin", o.signInView(w, r, view{Error: msgs["signin.limited"]}))
		return
	}
	u, err := o.store.Authenticate(r.Context(), name, password)
	if err != nil {
		if !errors.Is(err, operators.ErrBadCredentials) {
			o.fail(w, "check the password", err)
			return
		}
		if err := o.limiter.fail(r.Context(), ip, name, device); err != nil {
			o.log.Error("console: count a failed sign-in", "err", err)
		}
		o.store.Audit(r.Context(), name, "sign_in_failed", ip)
		o.render(w, r, http.StatusUnauthorized, "signin", o.signInView(w, r, view{Error: msgs["signin.bad"]}))
		return
	}
	token, _, err := o.store.StartSession(r.Context(), u)
	if err != nil {
		o.fail(w, "start a session", err)
		return
	}
	if err := o.limiter.reset(r.Context(), ip, name, device); err != nil {
		o.log.Error("console: forget the failed sign-ins", "err", err)
	}
	o.store.Audit(r.Context(), u.Name, "sign_in", ip)
	if device == "" {
		if d, err := o.store.AddDevice(r.Context(), u.Name); err != nil {
			o.log.Error("console: remember the browser", "err", err) // signs in all the same
		} else {
			http.SetCookie(w, o.cookie(deviceCookie, d, deviceLife))
		}
	}
	http.SetCookie(w, o.cookie(sessionCookie, token, operators.SessionLife))
	http.SetCookie(w, o.cookie(preCSRFCookie, "", -time.Second))
	home := "/ops/"
	if u.Lead {
		home = "/ops/passes"
	}
	http.Redirect(w, r, home, http.StatusSeeOther)
}

func (o *Console) signOut(w http.ResponseWriter, r *http.Request) {
	sess, _ := sessionFrom(r.Context())
	if c, err := r.Cookie(sessionCookie); err == nil {
		o.store.EndSession(r.Context(), c.Value)
	}
	o.store.Audit(r.Context(), sess.User.Name, "sign_out", "")
	http.SetCookie(w, o.cookie(sessionCookie, "", -time.Second))
	http.Redirect(w, r, "/ops/signin", http.StatusSeeOther)
}

// setLang switches the language and goes back to a page of the console
// (never elsewhere: back must be a path under /ops/).
func (o *Console) setLang(w http.ResponseWriter, r *http.Request) {
	lang := r.URL.Query().Get("to")
	ok := false
	for _, l := range languages {
		ok = ok || l == lang
	}
	if !ok {
		http.Error(w, "Unknown language.", http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/ops/", SameSite: http.SameSiteLaxMode,
		Secure: o.cfg.SecureCookies, MaxAge: 365 * 24 * 3600})
	back := r.URL.Query().Get("back")
	if !strings.HasPrefix(back, "/ops/") || strings.HasPrefix(back, "//") || strings.Contains(back, "\\") {
		back = "/ops/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
