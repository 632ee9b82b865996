package console

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
)

type observed struct {
	Unit  string
	Name  string // masked
	Until time.Time
}

type oneMapData struct {
	Sites    []string
	Site     string
	Day      string
	Map      records.DayMap
	Observed []observed
	Pledge   float64
}

type monthData struct {
	Month string
	Days  []records.SiteDay
}

var sitePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// serveOneMap shows a compound's day (?site=&day=), or with no site the
// subdistrict's month (?month=), every compound per day.
func (o *Console) serveOneMap(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	today := o.clock.Now().In(o.cfg.Zone)
	site := q.Get("site")
	sc := scopeFrom(r.Context())
	if site == "" && sc.user.Lead {
		site = sc.user.Sites[0] // a building lead has one compound, and no month of the subdistrict
	}
	if site == "" {
		month := q.Get("month")
		if month == "" {
			month = today.Format("2006-01")
		}
		days, err := o.rec.MonthMap(r.Context(), month)
		if err != nil {
			o.render(w, r, http.StatusBadRequest, "month", view{Error: "Bad input: month must look like 2026-02, got " + quote(month), Data: monthData{Month: month}})
			return
		}
		days = slices.DeleteFunc(days, func(d records.SiteDay) bool { return !sc.site(d.Site) })
		o.render(w, r, http.StatusOK, "month", view{Data: monthData{Month: month, Days: days}})
		return
	}
	sites, err := o.rec.Sites(r.Context())
	if err != nil {
		o.fail(w, "list compounds", err)
		return
	}
	day := q.Get("day")
	if day == "" {
		day = today.Format(time.DateOnly)
	}
	data := oneMapData{Sites: sc.keep(sites), Site: site, Day: day, Pledge: records.Pledge.Hours()}
	if !sitePattern.MatchString(site) {
		o.render(w, r, http.StatusBadRequest, "onemap", view{Error: "Bad input: compound must be 1-64 letters, digits, '-' or '_'.", Data: data})
		return
	}
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		o.render(w, r, http.StatusBadRequest, "onemap", view{Error: "Bad input: day must look like 2026-02-01, got " + quote(day), Data: data})
		return
	}
	if !sc.site(site) {
		o.render(w, r, http.StatusNotFound, "onemap", view{Error: o.msg(r, "scope.site", site), Data: data})
		return
	}
	if data.Map, err = o.rec.OneMap(r.Context(), site, day); err != nil {
		o.fail(w, "compute the one map", err)
		return
	}
	data.Map = sc.dayMap(data.Map)
	if o.cfg.Passes != nil {
		list, err := o.cfg.Passes.List(r.Context(), passes.Filter{Site: site})
		if err != nil {
			o.fail(w, "list passes", err)
			return
		}
		for _, p := range list {
			if p.Status == protocol.StatusHomeObservation && p.StatusUntil != nil && sc.unit(p.Site, p.Unit) {
				data.Observed = append(data.Observed, observed{Unit: p.Unit, Name: passes.MaskName(p.Name), Until: *p.StatusUntil})
			}
		}
	}
	o.render(w, r, http.StatusOK, "onemap", view{Data: data})
}

// exportOneMap writes one compound's day as CSV: a row per building and
// the total, the figures the committee reports upward. It holds counts
// only, no names; the export is audited like the entries'.
func (o *Console) exportOneMap(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	site, day := q.Get("site"), q.Get("day")
	if !sitePattern.MatchString(site) {
		http.Error(w, "Bad input: compound must be 1-64 letters, digits, '-' or '_'.", http.StatusBadRequest)
		return
	}
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		http.Error(w, "Bad input: day must look like 2026-02-01, got "+quote(day), http.StatusBadRequest)
		return
	}
	sc := scopeFrom(r.Context())
	if !sc.site(site) {
		http.Error(w, o.msg(r, "scope.site", site), http.StatusNotFound)
		return
	}
	m, err := o.rec.OneMap(r.Context(), site, day)
	if err != nil {
		o.fail(w, "compute the one map", err)
		return
	}
	m = sc.dayMap(m)
	sess, _ := sessionFrom(r.Context())
	o.store.Audit(r.Context(), sess.User.Name, "export_onemap", site+" "+day)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="onemap-%s-%s.csv"`, site, day))
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write([]string{"site", "day", "building", "entries", "visitors", "returnees_key_region", "returnees_other",
		"fevers", "home_observation_exit_attempts", "parcels"})
	row := func(building string, b records.BuildingDay) {
		cw.Write([]string{site, day, cell(building), strconv.Itoa(b.Entries), strconv.Itoa(b.Visitors),
			strconv.Itoa(b.ReturneesKey), strconv.Itoa(b.ReturneesNonKey), strconv.Itoa(b.Fevers),
			strconv.Itoa(b.HomeObservation), strconv.Itoa(b.Deliveries)})
	}
	for _, b := range m.Buildings {
		name := b.Building
		if name == "" {
			name = "unknown"
		}
		row(name, b)
	}
	row("total", m.Total)
	cw.Flush()
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return `"` + s + `"`
}
