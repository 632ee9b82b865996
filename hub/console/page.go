package console

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/records"
)

// pageEntries is how many entries the page lists.
const pageEntries = 100

type pageData struct {
	Entries []records.Stored
	Fleet   []kiosk
	Now     time.Time
}

func pageFuncs() template.FuncMap {
	return template.FuncMap{
		"clock": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Format("2006-01-02 15:04:05Z07:00")
		},
		"screened": func(e records.Stored) string {
			if e.Temperature == nil {
				return ""
			}
			return fmt.Sprintf("%.1f °C", e.Temperature.ScreenedC)
		},
		"join": func(s []string) string { return strings.Join(s, ", ") },
		"gaps": gapsText,
	}
}

func (c *Console) servePage(w http.ResponseWriter, r *http.Request) {
	entries, err := c.store.Latest(r.Context(), pageEntries)
	if err != nil {
		c.fail(w, "read latest entries", err)
		return
	}
	fleet, err := c.fleet(r.Context())
	if err != nil {
		c.fail(w, "read the fleet", err)
		return
	}
	// Render to a buffer first, so a template error is a clean 500 and not
	// half a page.
	var buf bytes.Buffer
	if err := c.page.Execute(&buf, pageData{Entries: entries, Fleet: fleet, Now: time.Now()}); err != nil {
		c.fail(w, "render page", err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (c *Console) fail(w http.ResponseWriter, what string, err error) {
	c.log.Error("console: "+what, "err", err)
	http.Error(w, "The hub could not "+what+". See the hub's log.", http.StatusInternalServerError)
}
