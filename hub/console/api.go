package console

import (
	"encoding/json"
	"errors"
	"slices"

	"fmt"
	"github.com/gatepost/gatepost/hub/records"
	"net/http"
	"strconv"
)

// The read API, for scripts (with an API token, `hub tokens`) and for
// anyone signed in: the same data as `hub entries --json` and
// `hub kiosks --json`.
//
//	GET /ops/api/entries   latest entries as JSON, ?limit=N (1..1000, default 100)
//	GET /ops/api/kiosks    the fleet as JSON, with each kiosk's gaps
const (
	apiEntries    = 100  // entries /ops/api/entries returns without ?limit
	maxAPIEntries = 1000 // bounds ?limit
)

func (o *Console) apiRoutes() {
	o.handle("GET /ops/api/entries", staff, 0, o.serveAPIEntries)
	o.handle("GET /ops/api/kiosks", staff, 0, o.serveAPIKiosks)
}

func (o *Console) serveAPIEntries(w http.ResponseWriter, r *http.Request) {
	limit := apiEntries
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxAPIEntries {
			writeJSON(w, http.StatusBadRequest, map[string]string{
				"error": fmt.Sprintf("limit must be a number from 1 to %d, got %q", maxAPIEntries, s),
			})
			return
		}
		limit = n
	}
	entries, err := o.latest(r, limit)
	if err != nil {
		o.log.Error("console: read latest entries", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not read entries"})
		return
	}
	writeJSON(w, http.StatusOK, entries)
}

func (o *Console) serveAPIKiosks(w http.ResponseWriter, r *http.Request) {
	fleet, err := o.rec.Fleet(r.Context())
	if err != nil {
		o.log.Error("console: read the fleet", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not read kiosks"})
		return
	}
	sc := scopeFrom(r.Context())
	fleet = slices.DeleteFunc(fleet, func(k records.FleetKiosk) bool { return !sc.site(k.Site) })
	writeJSON(w, http.StatusOK, fleet)
}

// latest is the newest limit entries the reader's scope holds.
func (o *Console) latest(r *http.Request, limit int) ([]records.Stored, error) {
	sc := scopeFrom(r.Context())
	if sc.all() {
		return o.rec.Latest(r.Context(), limit)
	}
	out := []records.Stored{}
	err := o.rec.Each(r.Context(), sc.entries(records.Filter{}), func(e records.Stored) error {
		out = append(out, e)
		if len(out) == limit {
			return errEnough
		}
		return nil
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	return out, err
}

var errEnough = errors.New("enough entries")

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "could not encode the response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}
