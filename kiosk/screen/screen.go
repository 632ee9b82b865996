// Package screen serves the guard's touchscreen: one page, embedded, that
// shows the post (guards on duty, link to the hub, unsynced count, devices,
// status list), the result of each entry full-screen, and the guard's forms
// (visitor, delivery, shift, disinfection), kept live by server-sent
// events. It works with no network: every asset is in the binary, and the
// page's words come from the kiosk's catalogue (kiosk/words), served as
// /assets/i18n/<lang>.json.
//
// The daemon and the gate import screen; it imports protocol, kiosk/words
// and internal/clock.
package screen

import (
	"embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
)

//go:embed assets
var assets embed.FS

// State is everything the page shows.
type State struct {
	Kiosk    string     `json:"kiosk"`
	Site     string     `json:"site"`
	Online   bool       `json:"online"`
	Unsynced uint64     `json:"unsynced"`
	LastAck  *time.Time `json:"last_ack,omitempty"`
	// OldestUnsynced is the kiosk time of the oldest entry the hub lacks.
	OldestUnsynced *time.Time `json:"oldest_unsynced,omitempty"`
	// Warning is a plain sentence about the kiosk itself (disk nearly
	// full, entries that cannot be synced until a person acts), shown
	// beside any device Problem.
	Warning  string            `json:"warning,omitempty"`
	Downlink map[string]uint64 `json:"downlink,omitempty"` // versions of config etc. in use
	Last     *Shown            `json:"last,omitempty"`
	// Problem is a plain sentence for the guard when something needs a
	// person (a device gone, the journal not writable); "" when all is well.
	Problem string `json:"problem,omitempty"`
	// The post and the guard's flows (forms.go).
	Guards    []Guard `json:"guards"`      // on post, in sign-in order
	MinOnPost int     `json:"min_on_post"` // fewer than this is shown in red
	Mode      *Mode   `json:"mode,omitempty"`
	Lists     *Lists  `json:"lists,omitempty"`
	// ResultSeconds is how long a result stays before the page returns to
	// idle by itself.
	ResultSeconds float64 `json:"result_seconds"`
	// Seen is the highest alert's seq a guard acknowledged: a newer alert
	// sounds until someone taps "seen", even across page reloads.
	Seen uint64 `json:"seen"`
	// Held are the people resting after a first high reading, waiting to
	// be measured again.
	Held []Held `json:"held"`
	// Devices is each device's state, for the page and `kiosk status`.
	Devices []Device `json:"devices,omitempty"`
	// Simulated is true while any device is a simulator: the page says so
	// on every screen, since such entries are invented.
	Simulated bool `json:"simulated,omitempty"`
}

// Held is a person held for a second reading: they may scan again from
// Ready, and until Until their next scan is the second reading.
type Held struct {
	Unit  string    `json:"unit,omitempty"`
	Name  string    `json:"name,omitempty"`
	Ready time.Time `json:"ready"`
	Until time.Time `json:"until"`
}

// Guard is a guard on post.
type Guard struct {
	ID    string    `json:"id"`
	Name  string    `json:"name"` // masked, as on the pass
	Since time.Time `json:"since"`
}

// Mode is what the next scan is for when it is not a resident's pass: a
// guard's pass to sign in or out, or to record a disinfection of Area.
type Mode struct {
	Kind  string    `json:"kind"` // ModeSignIn, ModeSignOut, ModeDisinfect
	Area  string    `json:"area,omitempty"`
	Until time.Time `json:"until"`
}

// The modes.
const (
	ModeSignIn    = "sign_in"
	ModeSignOut   = "sign_out"
	ModeDisinfect = "disinfect"
)

// Lists is the freshness of the pass keys and status list the gate checks
// against.
type Lists struct {
	Keys   uint64 `json:"keys"`   // key set version, 0 when none
	Status uint64 `json:"status"` // status list version, 0 when none
	Stale  bool   `json:"stale"`  // the status list is missing, too old or another site's
}

// Device is one device's state: "connected", "disconnected" or "error".
// Detail is the driver's reason, for installers (`kiosk status`); the
// guard's page shows Problem's plain sentence instead.
type Device struct {
	Name   string `json:"name"` // "thermometer", "scanner"
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
	Port   string `json:"port,omitempty"`
}

// Shown is the last entry as the guard sees it.
type Shown struct {
	Seq          uint64    `json:"seq"`
	Time         time.Time `json:"time"`
	Scan         string    `json:"scan,omitempty"` // shortened: the guard needs to see a scan happened, not the token
	TemperatureC *float64  `json:"temperature_c,omitempty"`
	Decision     string    `json:"decision"`
	Reasons      []string  `json:"reasons"`
	Say          string    `json:"say,omitempty"` // the rules' plain sentence for the guard, Chinese first
	// What the page shows large, in the guard's language.
	Kind  string `json:"kind,omitempty"` // the entry's kind: check, visitor, shift_in, ...
	Unit  string `json:"unit,omitempty"`
	Name  string `json:"name,omitempty"` // masked, as on the pass
	SayZH string `json:"say_zh,omitempty"`
	SayEN string `json:"say_en,omitempty"`
	Alert bool   `json:"alert,omitempty"` // reported at once: sounds until seen
}

// Server holds the current state and pushes it to every open page.
type Server struct {
	log  *slog.Logger
	mu   sync.Mutex
	st   State
	subs map[chan struct{}]struct{}
	mux  *http.ServeMux
	// clock dates the visitor form's return dates (a field so that
	// tests can fix the day).
	clock clock.Clock
	// Set by Serve: the daemon's side of the forms, and what they offer.
	gate     Gate
	compound Compound
	// guard refuses what did not come from the page (guard.go); routes
	// lists every pattern served, so tests cover each one.
	guard  guard
	routes []string
}

// New returns a screen server showing st.
func New(st State, log *slog.Logger) *Server {
	s := &Server{log: log, st: st, subs: map[chan struct{}]struct{}{}, mux: http.NewServeMux(), clock: clock.Real()}
	s.guard.secret = newSecret()
	s.handle("GET /{$}", http.HandlerFunc(s.page))
	s.handle("GET /assets/", http.FileServerFS(assets))
	s.handle("GET /assets/i18n/{file}", http.HandlerFunc(serveCatalogue))
	s.handle("GET /events", http.HandlerFunc(s.events))
	s.handle("GET /api/state", http.HandlerFunc(s.state))
	s.handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") }))
	s.handle("POST /api/seen", http.HandlerFunc(s.seen))
	return s
}

// handle is the one way a route is added.
func (s *Server) handle(pattern string, h http.Handler) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, h)
}

// ServeHTTP serves the page, its assets, /events and /api/state, and the
// forms' POSTs, each only when it comes from the page itself (guard.go).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	if why, key := s.admit(r); why != "" {
		s.refuse403(w, r, why, key)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Update changes the state with f and pushes the result to every page.
func (s *Server) Update(f func(*State)) {
	s.mu.Lock()
	f(&s.st)
	for ch := range s.subs {
		select { // each page holds at most one pending wake-up: it reads the latest state
		case ch <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
}

// State returns a copy of the current state.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

func (s *Server) state(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(s.State())
}

// events streams the state as server-sent events: once at connect, then
// on every change, with a comment every 15 s so proxies keep it open.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	if s.gate != nil {
		s.gate.Refresh(r.Context()) // a page (re)connecting sees current devices and lists
	}
	ch := make(chan struct{}, 1)
	ch <- struct{}{}
	s.mu.Lock()
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, ch)
		s.mu.Unlock()
	}()
	beat := time.NewTicker(15 * time.Second)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-beat.C:
			fmt.Fprint(w, ": beat\n\n")
		case <-ch:
			data, _ := json.Marshal(s.State())
			fmt.Fprintf(w, "event: state\ndata: %s\n\n", data)
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
