package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
)

// Records is what the signed-in console reads from the hub's entries.
type Records interface {
	Store
	Search(ctx context.Context, f records.Filter, page, size int) (records.Page, error)
	Each(ctx context.Context, f records.Filter, fn func(records.Stored) error) error
	Entries(ctx context.Context, q records.Query) ([]records.Stored, error)
	Sites(ctx context.Context) ([]string, error)
	Since(ctx context.Context, c records.Cursor, limit int) ([]records.Stored, records.Cursor, error)
	UrgentSince(ctx context.Context, c records.Cursor, limit int, also []string) ([]records.Stored, records.Cursor, error)
	OneMap(ctx context.Context, site, day string) (records.DayMap, error)
	MonthMap(ctx context.Context, month string) ([]records.SiteDay, error)
	Purge(ctx context.Context, kind string, cutoff time.Time, dryRun bool) (int, error)
	Downlinks(ctx context.Context) ([]protocol.Downlink, error)
	Published(ctx context.Context, kind protocol.DownlinkKind) ([]records.Published, error)
}

// PassLister lists passes, for the people under home observation on the
// one map. Optional.
type PassLister interface {
	List(ctx context.Context, f passes.Filter) ([]passes.Pass, error)
}

var _ Records = (*records.SQLite)(nil)

// OpsConfig turns on the signed-in console under /ops/.
type OpsConfig struct {
	Path    string // console.db; the console opens and closes it
	Records Records
	Passes  PassLister       // may be nil
	Now     func() time.Time // nil for the wall clock
	Zone    *time.Location   // times shown and typed; nil for China Standard Time
	// SecureCookies marks cookies Secure. Turn on when the console is
	// served over HTTPS (directly or behind a proxy).
	SecureCookies bool
	// PollEvery is how often the follower looks for new entries and
	// fleet trouble; 0 means one second.
	PollEvery time.Duration
	// OfflineAfter raises an alert for a kiosk offline longer; 0 means
	// ten minutes. GapAfter likewise for a sync gap; 0 means five minutes.
	OfflineAfter, GapAfter time.Duration
	// Publisher sends kiosk configuration; nil: the kiosks page says the
	// console cannot publish.
	Publisher Publisher

	// ManagePasses turns on the admins' pass pages (/ops/passes); nil
	// leaves them saying the hub has no pass store. PassesChanged, when
	// set, is called after each change, so the pass feed sends it to the
	// kiosks at once rather than at its next poll.
	ManagePasses  PassManager
	PassesChanged func()
	// ListBehindAfter raises an alert for an online kiosk running an
	// older status list than the hub published for it, for longer;
	// ListMaxAge for one whose list was issued longer ago (liststale.go).
	// 0 means DefaultListBehindAfter and DefaultListMaxAge.
	ListBehindAfter, ListMaxAge time.Duration
}

// ops is the signed-in console.
type ops struct {
	cfg     OpsConfig
	store   *operators.Store
	rec     Records
	log     *slog.Logger
	msgs    map[string]catalogue
	pages   map[string]*template.Template
	limiter *limiter
	live    *broadcaster
	lists   listWatch
	// conflictsSeen: per kiosk, the conflict count already alerted on
	// (follow.go); only the follower's loop touches it.
	conflictsSeen map[string]uint64
	stopOnce      sync.Once
	stopped       chan struct{}
}

// Operators turns on the signed-in console under /ops/: sign-in, entries,
// alerts, the one map and the fleet. Call Follow to raise alerts and feed
// the live view, Stop to end live streams, and Close to close console.db.
func (c *Console) Operators(cfg OpsConfig) error {
	if cfg.Records == nil || cfg.Path == "" {
		return errors.New("console: operators: Records and Path are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Zone == nil {
		cfg.Zone = passes.Zone
	}
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = time.Second
	}
	if cfg.OfflineAfter <= 0 {
		cfg.OfflineAfter = 10 * time.Minute
	}
	if cfg.GapAfter <= 0 {
		cfg.GapAfter = 5 * time.Minute
	}
	if cfg.ListBehindAfter <= 0 {
		cfg.ListBehindAfter = DefaultListBehindAfter
	}
	if cfg.ListMaxAge <= 0 {
		cfg.ListMaxAge = DefaultListMaxAge
	}
	store, err := operators.Open(cfg.Path, cfg.Now)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	msgs, err := loadCatalogues()
	if err != nil {
		store.Close()
		return fmt.Errorf("console: %w", err)
	}
	o := &ops{cfg: cfg, store: store, rec: cfg.Records, log: c.log, msgs: msgs,
		limiter: newLimiter(cfg.Now), live: newBroadcaster(), stopped: make(chan struct{})}
	if o.pages, err = parsePages(); err != nil {
		store.Close()
		return fmt.Errorf("console: %w", err)
	}
	c.ops = o
	o.routes(c.mux)
	return nil
}

// Stop ends the live streams, so that an HTTP server's Shutdown need not
// wait for them.
func (c *Console) Stop() {
	if c.ops != nil {
		c.ops.stopOnce.Do(func() { close(c.ops.stopped); c.ops.live.close() })
	}
}

// Close stops live streams and closes console.db.
func (c *Console) Close() error {
	if c.ops == nil {
		return nil
	}
	c.Stop()
	return c.ops.store.Close()
}

// OperatorStore is console.db, for the hub's commands and tests.
func (c *Console) OperatorStore() *operators.Store {
	if c.ops == nil {
		return nil
	}
	return c.ops.store
}

func (o *ops) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /ops/signin", o.serveSignIn)
	mux.HandleFunc("POST /ops/signin", o.signIn)
	mux.HandleFunc("GET /ops/lang", o.setLang)
	mux.HandleFunc("GET /ops/ops.css", serveAsset("assets/ops/ops.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /ops/ops.js", serveAsset("assets/ops/ops.js", "text/javascript; charset=utf-8"))
	mux.Handle("POST /ops/signout", o.auth(false, o.signOut))
	mux.Handle("GET /ops/{$}", o.auth(false, o.serveEntries))
	mux.Handle("GET /ops/entries.csv", o.auth(false, o.exportEntries))
	mux.Handle("POST /ops/reveal", o.auth(true, o.reveal))
	mux.Handle("GET /ops/alerts", o.auth(false, o.serveAlerts))
	mux.Handle("POST /ops/alerts/{id}", o.auth(false, o.moveAlert))
	mux.Handle("GET /ops/onemap", o.auth(false, o.serveOneMap))
	mux.Handle("GET /ops/onemap.csv", o.auth(false, o.exportOneMap))
	mux.Handle("GET /ops/fleet", o.auth(false, o.serveFleet))
	mux.Handle("GET /ops/audit", o.auth(true, o.serveAudit))
	mux.Handle("GET /ops/events", o.auth(false, o.serveEvents))
	o.adminRoutes(mux)
	o.passRoutes(mux)
}

func serveAsset(name, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		data, err := assets.ReadFile(name)
		if err != nil {
			http.NotFound(w, nil)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Write(data)
	}
}

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

// Kind translates an entry kind or decision code: "kind.visitor".
func (v view) Code(prefix, code string) string {
	if s, ok := v.msgs[prefix+"."+code]; ok {
		return s
	}
	return code
}

// render writes page with status, rendering to a buffer first so that a
// template error is a clean 500 rather than half a page.
func (o *ops) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	v.Lang, v.Page, v.Path, v.request, v.zone = requestLang(r), page, r.URL.RequestURI(), r, o.cfg.Zone
	v.msgs = o.msgs[v.Lang]
	if s, ok := sessionFrom(r.Context()); ok {
		v.User, v.CSRF = &s.User, s.CSRF
		open, err := o.store.Alerts(r.Context(), 20, operators.StateOpen)
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
func (o *ops) fail(w http.ResponseWriter, what string, err error) {
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
