package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
)

// Records is what the console reads from the hub's entries.
type Records interface {
	Latest(ctx context.Context, limit int) ([]records.Stored, error)
	Kiosks(ctx context.Context) ([]records.Kiosk, error)
	Fleet(ctx context.Context) ([]records.FleetKiosk, error)
	Search(ctx context.Context, f records.Filter, page, size int) (records.Page, error)
	Each(ctx context.Context, f records.Filter, fn func(records.Stored) error) error
	Entries(ctx context.Context, q records.Query) ([]records.Stored, error)
	Sites(ctx context.Context) ([]string, error)
	OneMap(ctx context.Context, site, day string) (records.DayMap, error)
	MonthMap(ctx context.Context, month string) ([]records.SiteDay, error)
	// Purge only counts here (dryRun): the retention page's preview.
	Purge(ctx context.Context, kind string, cutoff time.Time, dryRun bool) (int, error)
	Downlinks(ctx context.Context) ([]protocol.Downlink, error)
	Published(ctx context.Context, kind protocol.DownlinkKind) ([]records.Published, error)
}

var _ Records = (*records.SQLite)(nil)

// PassLister lists passes, for the people under home observation on the
// one map. Optional.
type PassLister interface {
	List(ctx context.Context, f passes.Filter) ([]passes.Pass, error)
}

// Publisher sends a downlink to kiosks: in `hub serve`, the server (its
// PublishDownlink goes through hub/downlink.Issue, as `hub push` does).
type Publisher interface {
	PublishDownlink(ctx context.Context, site, kiosk string, kind protocol.DownlinkKind,
		payload json.RawMessage) (protocol.Downlink, error)
	// BrokerConnected reports whether the hub's MQTT client is connected
	// now; a message issued while it is not is published on reconnect.
	BrokerConnected() bool
}

// Config is what the console needs. Records and Operators are required.
type Config struct {
	Records   Records
	Operators *operators.Store // console.db, opened and closed by the caller
	Passes    PassLister       // may be nil
	Clock     clock.Clock      // nil for the wall clock
	Zone      *time.Location   // times shown and typed; nil for China Standard Time
	Log       *slog.Logger     // nil discards
	// SecureCookies marks cookies Secure. Turn on when the console is
	// served over HTTPS (directly or behind a proxy).
	SecureCookies bool
	// Publisher sends kiosk configuration; nil: the kiosks page says the
	// console cannot publish.
	Publisher Publisher
	// ManagePasses turns on the admins' pass pages (/ops/passes); nil
	// leaves them saying the hub has no pass store. PassesChanged, when
	// set, is called after each change, so the pass feed sends it to the
	// kiosks at once rather than at its next poll.
	ManagePasses  PassManager
	PassesChanged func()
	// Kiosks is the kiosk register (kiosks.db): the fleet page shows each
	// kiosk's state in it, and admins enroll and retire kiosks there. nil
	// leaves the fleet page as the hub heard it, with no enrollment.
	Kiosks *registry.Store
	// TLS loads the hub's CA and server certificate, which a code names
	// (called per code, so `hub tls init` needs no console restart); nil
	// or an error: the console says to run `hub tls init`.
	TLS func() (*pki.Files, error)
	// EnrollAddr is HOST:PORT of the hub's enrollment listener as kiosks
	// reach it, put in codes; "" is the certificate's first name, port
	// 8443 (as `hub kiosks enroll` without --hub).
	EnrollAddr string
	// Verified, if set, is the hub's last scheduled walk of the stored
	// chains: when (zero before the first), how many findings, and
	// whether it failed; the fleet page shows it to those who see every
	// compound.
	Verified func() (at time.Time, findings int, err error)
	// Ready, if set, answers GET /readyz (a load balancer's check): ""
	// when the hub can take work (storage answers, its broker link is
	// up), else what is wrong, in a word a load balancer's log can hold
	// ("storage", "broker"). detail lines follow either way (which
	// once-only jobs this replica runs). nil: /readyz answers as /healthz.
	Ready func(ctx context.Context) (problem string, detail []string)
}

//go:embed assets
var assets embed.FS

// Console serves the operators' console, everything under /ops/ (the
// pages, their assets, the live feed /ops/events and the read API
// /ops/api/; docs/console.md lists them), and GET /healthz. Every page
// but sign-in needs a session or an API token.
type Console struct {
	cfg     Config
	store   *operators.Store
	rec     Records
	clock   clock.Clock
	log     *slog.Logger
	msgs    map[string]catalogue
	pages   map[string]*template.Template
	mux     *http.ServeMux
	limiter *limiter
	live    *broadcaster
	table   []routeRule // every route handle registered, with who may use it
}

// New returns a console reading cfg.Records and console.db. Call Stop
// (or Close) to end its live streams.
func New(cfg Config) (*Console, error) {
	if cfg.Records == nil || cfg.Operators == nil {
		return nil, errors.New("console: Records and Operators are required")
	}
	if cfg.Zone == nil {
		cfg.Zone = passes.Zone
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	msgs, err := loadCatalogues()
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	clk := clock.Or(cfg.Clock)
	c := &Console{cfg: cfg, store: cfg.Operators, rec: cfg.Records, clock: clk, log: cfg.Log, msgs: msgs,
		pages: pages, mux: http.NewServeMux(), limiter: newLimiter(cfg.Operators, clk), live: newBroadcaster()}
	c.routes()
	return c, nil
}

// ServeHTTP serves the console.
func (o *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Scripts and styles come only from the hub itself, never inline: an
	// entry's text that slipped past escaping still could not run.
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: with no-referrer a browser sends
	// "Origin: null" on form posts, and the CSRF check needs the origin.
	h.Set("Referrer-Policy", "same-origin")
	o.mux.ServeHTTP(w, r)
}

// Stop ends the live streams, so that an HTTP server's Shutdown need not
// wait for them.
func (o *Console) Stop() { o.live.close() }

// Close ends the live streams. console.db is the caller's to close.
func (o *Console) Close() error {
	o.Stop()
	return nil
}

// serveReady answers a load balancer: 200 "ready" when the hub can take
// work, 503 "not ready: WHAT" when it cannot, so that a replica that lost
// its database or broker is taken out of rotation while /healthz (the
// process answers) stays the liveness check. It names no address or
// secret: it answers anyone.
func (o *Console) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if o.cfg.Ready == nil {
		fmt.Fprintln(w, "ready")
		return
	}
	problem, detail := o.cfg.Ready(r.Context())
	if problem != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready:", problem)
	} else {
		fmt.Fprintln(w, "ready")
	}
	for _, d := range detail {
		fmt.Fprintln(w, d)
	}
}

// OperatorStore is console.db, for the hub's commands and tests.
func (o *Console) OperatorStore() *operators.Store { return o.store }

func (o *Console) routes() {
	// The address of the older open page, which is gone: bookmarks land
	// on the console.
	o.handle("GET /{$}", public, 0, http.RedirectHandler("/ops/", http.StatusSeeOther).ServeHTTP)
	o.handle("GET /healthz", public, 0, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	o.handle("GET /readyz", public, 0, o.serveReady)
	o.handle("GET /ops/signin", public, 0, o.serveSignIn)
	o.handle("POST /ops/signin", public, 0, o.signIn)
	o.handle("GET /ops/lang", public, 0, o.setLang)
	o.handle("GET /ops/ops.css", public, 0, serveAsset("assets/ops/ops.css", "text/css; charset=utf-8"))
	o.handle("GET /ops/ops.js", public, 0, serveAsset("assets/ops/ops.js", "text/javascript; charset=utf-8"))
	o.handle("POST /ops/signout", staff|roleLead, 0, o.signOut)
	o.handle("GET /ops/{$}", staff, 0, o.serveEntries)
	o.handle("GET /ops/entries.csv", staff, 0, o.exportEntries)
	o.handle("POST /ops/reveal", adminsOnly, 0, o.reveal)
	o.handle("GET /ops/alerts", staff, 0, o.serveAlerts)
	o.handle("POST /ops/alerts/{id}", staff, 0, o.moveAlert)
	o.handle("GET /ops/onemap", staff|roleLead, 0, o.serveOneMap)
	o.handle("GET /ops/onemap.csv", staff|roleLead, 0, o.exportOneMap)
	o.handle("GET /ops/fleet", staff, 0, o.serveFleet)
	o.handle("GET /ops/audit", adminsOnly, 0, o.serveAudit)
	o.handle("GET /ops/events", staff, 0, o.serveEvents)
	o.apiRoutes()
	o.adminRoutes()
	o.passRoutes()
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
