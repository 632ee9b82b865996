package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// maxAPIEntries bounds ?limit on /api/entries.
const maxAPIEntries = 1000

func (c *Console) serveEntries(w http.ResponseWriter, r *http.Request) {
	limit := pageEntries
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
	entries, err := c.store.Latest(r.Context(), limit)
	if err != nil {
		c.log.Error("console: read latest entries", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not read entries"})
		return
	}
	writeJSON(w, http.StatusOK, entries)
}

func (c *Console) serveKiosks(w http.ResponseWriter, r *http.Request) {
	fleet, err := c.fleet(r.Context())
	if err != nil {
		c.log.Error("console: read the fleet", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not read kiosks"})
		return
	}
	writeJSON(w, http.StatusOK, fleet)
}

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
