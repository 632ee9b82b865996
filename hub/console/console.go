package console

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gatepost/gatepost/hub/records"
)

// Store is what the console reads.
type Store interface {
	Latest(ctx context.Context, limit int) ([]records.Stored, error)
	Kiosks(ctx context.Context) ([]records.Kiosk, error)
	Fleet(ctx context.Context) ([]records.FleetKiosk, error)
}

//go:embed assets
var assets embed.FS

// Console serves the operators' page and its JSON API:
//
//	GET /              the page: latest entries and the fleet
//	GET /api/entries   latest entries as JSON, ?limit=N (1..1000, default 100)
//	GET /api/kiosks    the fleet as JSON, with each kiosk's gaps
//	GET /healthz       200 "ok"
//	GET /console.js, /console.css
type Console struct {
	store Store
	log   *slog.Logger
	page  *template.Template
	mux   *http.ServeMux
	ops   *ops // the signed-in console under /ops/, when Operators was called
}

// New returns a console reading from store. log may be nil.
func New(store Store, log *slog.Logger) (*Console, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	page, err := template.New("index.html").Funcs(pageFuncs()).ParseFS(assets, "assets/index.html")
	if err != nil {
		return nil, fmt.Errorf("console: parse page: %w", err)
	}
	c := &Console{store: store, log: log, page: page, mux: http.NewServeMux()}
	c.mux.HandleFunc("GET /{$}", c.servePage)
	c.mux.HandleFunc("GET /api/entries", c.serveEntries)
	c.mux.HandleFunc("GET /api/kiosks", c.serveKiosks)
	c.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	c.mux.HandleFunc("GET /console.js", c.serveAsset("assets/console.js", "text/javascript; charset=utf-8"))
	c.mux.HandleFunc("GET /console.css", c.serveAsset("assets/console.css", "text/css; charset=utf-8"))
	return c, nil
}

// ServeHTTP serves the console.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Scripts and styles come only from the hub itself, never inline: an
	// entry's text that slipped past escaping still could not run.
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: with no-referrer a browser sends
	// "Origin: null" on form posts, and the CSRF check needs the origin.
	h.Set("Referrer-Policy", "same-origin")
	// With accounts on, the summary page and its JSON need a signed-in
	// user too (scripts on the hub's machine use hub entries / hub kiosks).
	if c.ops != nil && (r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, "/api/")) {
		c.ops.auth(false, c.mux.ServeHTTP).ServeHTTP(w, r)
		return
	}
	c.mux.ServeHTTP(w, r)
}

func (c *Console) serveAsset(name, contentType string) http.HandlerFunc {
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
