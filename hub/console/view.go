package console

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/text"
)

// view is what every page template gets.
type view struct {
	Lang    string
	Page    string
	Path    string // this page's path and query, for the language link
	User    *operators.User
	CSRF    string
	Open    []operators.Alert // open alerts, for the bar at the top
	Error   string
	Notice  string
	Data    any
	msgs    catalogue
	zone    *time.Location
	request *http.Request
}

// T returns the message for key in the page's language; a missing key
// shows as itself, which a test catches.
func (v view) T(key string) string {
	if s, ok := v.msgs[key]; ok {
		return s
	}
	return key
}

// Clock formats t in the console's zone.
func (v view) Clock(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(v.zone).Format("2006-01-02 15:04:05")
}

// Q is the request's query value for key.
func (v view) Q(key string) string { return v.request.URL.Query().Get(key) }

// Code translates a console code by its catalogue key: "passkind.resident".
func (v view) Code(prefix, code string) string {
	if s, ok := v.msgs[prefix+"."+code]; ok {
		return s
	}
	return code
}

// Kind is an entry kind's words in the page's language.
func (v view) Kind(k string) string { return kindText(v.Lang, protocol.Kind(k)) }

// Decision is a decision's words in the page's language.
func (v view) Decision(d string) string { return decisionText(v.Lang, protocol.Decision(d)) }

// Reasons are an entry's reasons in the page's language.
func (v view) Reasons(rs []string) string { return reasonsText(v.Lang, rs) }

// Area is a disinfection area's words in the page's language.
func (v view) Area(a string) string { return text.Area(v.Lang, a) }

// render writes page with status, rendering to a buffer first so that a
// template error is a clean 500 rather than half a page.
func (o *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	v.Lang, v.Page, v.Path, v.request, v.zone = requestLang(r), page, r.URL.RequestURI(), r, o.cfg.Zone
	v.msgs = o.msgs[v.Lang]
	if s, ok := sessionFrom(r.Context()); ok {
		v.User, v.CSRF = &s.User, s.CSRF
		var open []operators.Alert
		var err error
		if !s.User.Lead {
			open, err = o.store.AlertsIn(r.Context(), scopeFrom(r.Context()).sites(), 20, operators.StateOpen)
		}
		if err != nil {
			o.log.Error("console: list open alerts", "err", err)
		}
		v.Open = open
	}
	var buf bytes.Buffer
	if err := o.pages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		o.log.Error("console: render", "page", page, "err", err)
		http.Error(w, "The hub could not show this page. See the hub's log.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail logs err and shows a plain sentence.
func (o *Console) fail(w http.ResponseWriter, what string, err error) {
	o.log.Error("console: "+what, "err", err)
	http.Error(w, "The hub could not "+what+". See the hub's log.", http.StatusInternalServerError)
}

var pageNames = []string{"signin", "entries", "alerts", "onemap", "month", "fleet", "audit", "reveal"}

func parsePages() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	for _, name := range slices.Concat(pageNames, adminPages, passPages) {
		t, err := template.New(name).Funcs(opsFuncs()).ParseFS(assets, "assets/ops/layout.html", "assets/ops/adminnav.html", "assets/ops/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

func opsFuncs() template.FuncMap {
	return template.FuncMap{
		"join":  func(s []string) string { return strings.Join(s, ", ") },
		"hours": func(h float64) string { return fmt.Sprintf("%.1f", h) },
		"gaps":  gapsText,
		"temp": func(e records.Stored) string {
			if e.Temperature == nil {
				return ""
			}
			return fmt.Sprintf("%.1f", e.Temperature.ScreenedC)
		},
	}
}
