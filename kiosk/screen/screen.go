// Package screen serves the guard's touchscreen: one page, embedded, that
// shows the last entry, the link to the hub and the unsynced count, kept
// live by server-sent events. It works with no network: every asset is in
// the binary.
//
// Only the kiosk's packages import screen.
package screen

import (
	"embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
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
	// full), shown beside any device Problem.
	Warning  string            `json:"warning,omitempty"`
	Downlink map[string]uint64 `json:"downlink,omitempty"` // versions of config etc. in use
	Last     *Shown            `json:"last,omitempty"`
	// Problem is a plain sentence for the guard when something needs a
	// person (a device gone, the journal not writable); "" when all is well.
	Problem string `json:"problem,omitempty"`
	// Devices is each device's state, for the page and `kiosk status`.
	Devices []Device `json:"devices,omitempty"`
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
}

// Server holds the current state and pushes it to every open page.
type Server struct {
	log  *slog.Logger
	mu   sync.Mutex
	st   State
	subs map[chan struct{}]struct{}
	mux  *http.ServeMux
}

// New returns a screen server showing st.
func New(st State, log *slog.Logger) *Server {
	s := &Server{log: log, st: st, subs: map[chan struct{}]struct{}{}, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /{$}", s.page)
	s.mux.Handle("GET /assets/", http.FileServerFS(assets))
	s.mux.HandleFunc("GET /events", s.events)
	s.mux.HandleFunc("GET /api/state", s.state)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	return s
}

// ServeHTTP serves the page, its assets, /events and /api/state.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

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

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	data, err := assets.ReadFile("assets/index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(data)
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
