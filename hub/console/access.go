package console

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
)

// Who may use a route, and what of the hub's data they see there, is
// decided here and nowhere else: each route is registered with handle,
// which names the roles it admits; auth puts the user's scope in the
// request's context, and every handler reads compounds, buildings and
// alerts through scopeFrom. A route registered without roles is open to
// anyone (sign-in, assets, /healthz); the route test lists every route
// handle registered and fails on one it has no case for.

// roles is a set of the console's roles.
type roles uint8

const (
	roleAdmin roles = 1 << iota
	roleOperator
	roleLead // a building lead (楼组包干员)

	public     roles = 0                        // no sign-in
	staff            = roleAdmin | roleOperator // the console's own pages
	adminsOnly       = roleAdmin
	// passKeepers: the pass pages a building lead uses for its own
	// buildings' home observation.
	passKeepers = roleAdmin | roleLead
)

func roleOf(u operators.User) roles {
	switch {
	case u.Admin:
		return roleAdmin
	case u.Lead:
		return roleLead
	}
	return roleOperator
}

// routeRule is a registered route and the roles it admits.
type routeRule struct {
	Pattern string
	Roles   roles
}

// handle registers h at pattern for roles (public: no sign-in). limit
// bounds a form's body (0: no bound).
func (o *Console) handle(pattern string, rs roles, limit int64, h http.HandlerFunc) {
	o.table = append(o.table, routeRule{Pattern: pattern, Roles: rs})
	var hh http.Handler = h
	if rs != public {
		hh = o.auth(rs, h)
	}
	o.mux.Handle(pattern, limitBody(limit, hh))
}

// Routes lists every route of the console with the roles it admits, for
// the tests and docs.
func (o *Console) routeTable() []routeRule { return slices.Clone(o.table) }

// scope is what the signed-in user may see: every compound (an admin, an
// operator with no scope), some compounds (a scoped operator) or some
// buildings of one compound (a building lead). A request with no session
// sees nothing.
type scope struct {
	user operators.User
	ok   bool
}

func scopeFrom(ctx context.Context) scope {
	s, ok := sessionFrom(ctx)
	return scope{user: s.User, ok: ok}
}

// all reports whether the scope holds every compound.
func (s scope) all() bool { return s.ok && s.user.AllSites() }

// site reports whether the scope holds compound site.
func (s scope) site(site string) bool { return s.ok && s.user.SeesSite(site) }

// unit reports whether the scope holds a unit ("3-201") of site: for a
// building lead, a unit of one of its buildings.
func (s scope) unit(site, unit string) bool {
	return s.ok && s.user.SeesBuilding(site, buildingOf(unit))
}

// building reports whether the scope holds building b of site.
func (s scope) building(site, b string) bool { return s.ok && s.user.SeesBuilding(site, b) }

// sites is the compounds the scope holds, nil for every one; an empty,
// non-nil list for none.
func (s scope) sites() []string {
	if s.all() {
		return nil
	}
	if !s.ok {
		return []string{}
	}
	return append([]string{}, s.user.Sites...)
}

// entries narrows an entries filter to the scope.
func (s scope) entries(f records.Filter) records.Filter {
	f.Sites = s.sites()
	return f
}

// keep filters list to the compounds the scope holds.
func (s scope) keep(list []string) []string {
	var out []string
	for _, site := range list {
		if s.site(site) {
			out = append(out, site)
		}
	}
	return out
}

// buildingOf is a unit's building: its part before '-', as the one map
// counts it.
func buildingOf(unit string) string {
	b, _, _ := strings.Cut(unit, "-")
	return b
}

// refuseRole answers a signed-in user whose role may not use the route.
// A building lead opening the console's front page is sent to its passes.
func (o *Console) refuseRole(w http.ResponseWriter, r *http.Request, u operators.User, rs roles) {
	if u.Lead && r.Method == http.MethodGet && r.URL.Path == "/ops/" {
		http.Redirect(w, r, "/ops/passes", http.StatusSeeOther)
		return
	}
	if rs&roleAdmin != 0 && !u.Lead {
		http.Error(w, "Only an admin may do this.", http.StatusForbidden)
		return
	}
	http.Error(w, "Your account ("+u.Role()+") may not open this page: ask an admin if you need it.", http.StatusForbidden)
}

// dayMap narrows a compound's day to the scope: a building lead sees its
// buildings alone, their total, and its households' volunteer hours; the
// compound's disinfection rounds and gate cover are not its to see.
func (s scope) dayMap(m records.DayMap) records.DayMap {
	if !s.user.Lead {
		return m
	}
	out := records.DayMap{Site: m.Site, Day: m.Day, Total: records.BuildingDay{}}
	for _, b := range m.Buildings {
		if !s.building(m.Site, b.Building) {
			continue
		}
		out.Buildings = append(out.Buildings, b)
		t := &out.Total
		t.Entries += b.Entries
		t.Visitors += b.Visitors
		t.ReturneesKey += b.ReturneesKey
		t.ReturneesNonKey += b.ReturneesNonKey
		t.Fevers += b.Fevers
		t.HomeObservation += b.HomeObservation
		t.Deliveries += b.Deliveries
	}
	for _, h := range m.Volunteers {
		if s.unit(m.Site, h.Unit) {
			out.Volunteers = append(out.Volunteers, h)
		}
	}
	return out
}
