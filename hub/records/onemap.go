package records

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// The one map (一张图) is the committee's daily summary of a compound. A
// day is the date the kiosk wrote on the entry: the gate's own local day,
// which is the day the committee means, whatever the hub's zone.

// BuildingDay counts one building's day (or the compound's, as a total).
type BuildingDay struct {
	Building        string // the unit's part before '-', "" when unknown
	Entries         int    // people checked at the gate
	Visitors        int
	ReturneesKey    int // returnees from a key epidemic region
	ReturneesNonKey int
	Fevers          int
	HomeObservation int // attempts to leave by people under home observation
	Deliveries      int // parcels left at the drop point
}

// AreaDay is one area's disinfection records of the day.
type AreaDay struct {
	Area  string
	Times []time.Time // kiosk clock
}

// HouseholdHours is the volunteer time a household gave in the month up
// to the day, from its members' shift sign-in and sign-out at the gate.
type HouseholdHours struct {
	Unit  string
	Hours float64
}

// DayMap is a compound's one map for one day.
type DayMap struct {
	Site         string
	Day          string // 2006-01-02
	Total        BuildingDay
	Buildings    []BuildingDay
	Disinfection []AreaDay
	// CoveredHours per gate: time with two or more guards on post, as
	// each entry's on-post list reports it, until the next entry.
	CoveredHours map[string]float64
	Volunteers   []HouseholdHours // month to date, most hours first
}

// Pledge is the volunteer time each household is asked for per month.
const Pledge = time.Hour

// OneMap computes site's one map for day (2006-01-02).
func (s *SQLite) OneMap(ctx context.Context, site, day string) (DayMap, error) {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return DayMap{}, fmt.Errorf("one map: day must look like 2026-02-01, got %q", day)
	}
	m := DayMap{Site: site, Day: day, CoveredHours: map[string]float64{}}
	byBuilding := map[string]*BuildingDay{}
	areas := map[string]*AreaDay{}
	type span struct {
		at    time.Time
		count int
	}
	posts := map[string][]span{}
	err = s.eachOnDays(ctx, site, day, day, "", func(e Stored) {
		b := building(e.Unit)
		if e.Visitor != nil && e.Visitor.Visiting != "" {
			b = building(e.Visitor.Visiting)
		}
		bd := byBuilding[b]
		if bd == nil {
			bd = &BuildingDay{Building: b}
			byBuilding[b] = bd
		}
		count(bd, e)
		if e.Kind == protocol.KindDisinfection {
			a := areas[e.Area]
			if a == nil {
				a = &AreaDay{Area: e.Area}
				areas[e.Area] = a
			}
			a.Times = append(a.Times, e.Time)
		}
		posts[e.Kiosk] = append(posts[e.Kiosk], span{e.Time, len(e.OnPost)})
	})
	if err != nil {
		return DayMap{}, err
	}
	for _, bd := range byBuilding {
		m.Buildings = append(m.Buildings, *bd)
		add(&m.Total, *bd)
	}
	sort.Slice(m.Buildings, func(i, j int) bool { return naturalLess(m.Buildings[i].Building, m.Buildings[j].Building) })
	for _, a := range areas {
		m.Disinfection = append(m.Disinfection, *a)
	}
	sort.Slice(m.Disinfection, func(i, j int) bool { return m.Disinfection[i].Area < m.Disinfection[j].Area })
	for kiosk, spans := range posts {
		slices.SortFunc(spans, func(a, b span) int { return a.at.Compare(b.at) })
		y, mo, dd := spans[0].at.Date()
		end := time.Date(y, mo, dd+1, 0, 0, 0, 0, spans[0].at.Location()) // the gate's midnight
		var covered time.Duration
		for i, sp := range spans {
			next := end
			if i+1 < len(spans) {
				next = spans[i+1].at
			}
			if sp.count >= 2 && next.After(sp.at) {
				covered += next.Sub(sp.at)
			}
		}
		m.CoveredHours[kiosk] = covered.Hours()
	}
	m.Volunteers, err = s.volunteerHours(ctx, site, d)
	if err != nil {
		return DayMap{}, err
	}
	return m, nil
}

func count(bd *BuildingDay, e Stored) {
	switch e.Kind {
	case protocol.KindCheck:
		bd.Entries++
	case protocol.KindVisitor:
		bd.Visitors++
		if e.Visitor != nil && e.Visitor.Returnee {
			if slices.Contains(e.Reasons, protocol.ReasonKeyRegionReturnee) {
				bd.ReturneesKey++
			} else {
				bd.ReturneesNonKey++
			}
		}
	case protocol.KindDelivery:
		bd.Deliveries += max(e.Count, 1)
	}
	if hasFever(e.Reasons) {
		bd.Fevers++
	}
	if slices.Contains(e.Reasons, protocol.ReasonHomeObservation) {
		bd.HomeObservation++
	}
}

func add(t *BuildingDay, b BuildingDay) {
	t.Entries += b.Entries
	t.Visitors += b.Visitors
	t.ReturneesKey += b.ReturneesKey
	t.ReturneesNonKey += b.ReturneesNonKey
	t.Fevers += b.Fevers
	t.HomeObservation += b.HomeObservation
	t.Deliveries += b.Deliveries
}

// feverPrefix starts every reason the one map, the month's counts and the
// fever filter count as a fever: protocol.ReasonFeverHold,
// ReasonFeverRest and ReasonFeverConfirmed (and a bare "fever", which no
// kiosk sends). The stored-body index and filter (search.go) and the
// month's backfill (rollup.go) match the same prefix in SQL, so the three
// agree.
//
// Behaviour question, kept as it was: this counts fever_hold and
// fever_rest_more, a first reading at or over the line that the second
// may not confirm, as fevers beside fever_confirmed. TestFeverReasons
// pins which codes count.
const feverPrefix = "fever"

// isFeverReason reports whether r counts as a fever (see feverPrefix).
func isFeverReason(r string) bool { return strings.HasPrefix(r, feverPrefix) }

// hasFever reports a reason counted as a fever: an elevated reading was
// seen.
func hasFever(reasons []string) bool { return slices.ContainsFunc(reasons, isFeverReason) }

// feverColumn is hasFever as the entries' fever column holds it (schema
// step 9): 1 or 0, an integer in every engine.
func feverColumn(reasons []string) int {
	if hasFever(reasons) {
		return 1
	}
	return 0
}

// building is the part of a unit ("3-201") before the '-'.
func building(unit string) string {
	b, _, _ := strings.Cut(unit, "-")
	return b
}

// naturalLess orders "2" before "10"; "" (unknown) last.
func naturalLess(a, b string) bool {
	switch {
	case a == "":
		return false
	case b == "":
		return true
	case len(a) != len(b):
		return len(a) < len(b)
	}
	return a < b
}

// volunteerHours totals shift time per household in day's month up to
// the end of day: each shift_in is paired with the same pass's next
// shift_out at the same gate.
func (s *SQLite) volunteerHours(ctx context.Context, site string, day time.Time) ([]HouseholdHours, error) {
	first := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
	type key struct{ kiosk, pass string }
	in := map[key]time.Time{}
	hours := map[string]time.Duration{}
	var shifts []Stored
	if err := s.eachOnDays(ctx, site, first.Format(time.DateOnly), day.Format(time.DateOnly), "shift", func(e Stored) {
		shifts = append(shifts, e)
	}); err != nil {
		return nil, err
	}
	slices.SortFunc(shifts, func(a, b Stored) int {
		if c := strings.Compare(a.Kiosk, b.Kiosk); c != 0 {
			return c
		}
		return int(a.Seq) - int(b.Seq)
	})
	for _, e := range shifts {
		k := key{e.Kiosk, e.Pass}
		switch e.Kind {
		case protocol.KindShiftIn:
			in[k] = e.Time
		case protocol.KindShiftOut:
			if t, ok := in[k]; ok && e.Time.After(t) && e.Unit != "" {
				hours[e.Unit] += e.Time.Sub(t)
			}
			delete(in, k)
		}
	}
	out := make([]HouseholdHours, 0, len(hours))
	for unit, d := range hours {
		out = append(out, HouseholdHours{Unit: unit, Hours: d.Hours()})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Hours != out[j].Hours {
			return out[i].Hours > out[j].Hours
		}
		return out[i].Unit < out[j].Unit
	})
	return out, nil
}

// eachOnDays calls fn for site's entries whose kiosk date is in [from, to];
// kinds "shift" limits it to shift records.
func (s *SQLite) eachOnDays(ctx context.Context, site, from, to, kinds string, fn func(Stored)) error {
	// The kiosk's RFC 3339 text starts with its date, so a day is a range
	// of the plain column: "2026-02-03" <= time < "2026-02-03~".
	q := `SELECT ` + storedColumns + ` FROM entries WHERE site = ? AND time >= ? AND time < ?`
	if kinds == "shift" {
		q += ` AND kind IN ('shift_in', 'shift_out')`
	}
	rows, err := s.read.Query(ctx, q, site, from, to+"~")
	if err != nil {
		return fmt.Errorf("one map: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanOne(rows)
		if err != nil {
			return fmt.Errorf("one map: %w", err)
		}
		fn(e)
	}
	return rows.Err()
}

// SiteDay is one compound's day in the subdistrict's month view.
type SiteDay struct {
	Site       string
	Day        string
	Entries    int // check entries: people checked at the gate
	Visitors   int
	Deliveries int // parcels, as on the day's map
	Alerts     int // entries decided alert
	Fevers     int // entries with a reason starting "fever"
}

// MonthMap returns every compound's daily counts for month (2006-01),
// ordered by site then day: the subdistrict's one map at a glance. It
// reads the site_day rollup (rollup.go), a few thousand rows, rather
// than counting a month of entries: SaveBatch keeps it in the same
// transaction as the entries, so it is never behind them.
func (s *SQLite) MonthMap(ctx context.Context, month string) ([]SiteDay, error) {
	if _, err := time.Parse("2006-01", month); err != nil {
		return nil, fmt.Errorf("month map: month must look like 2026-02, got %q", month)
	}
	rows, err := s.read.Query(ctx, `SELECT site, day, checks, visitors, deliveries, alerts, fevers
		FROM site_day WHERE day > ? AND day < ? ORDER BY site, day`, month, month+"~")
	if err != nil {
		return nil, fmt.Errorf("month map: %w", err)
	}
	defer rows.Close()
	var out []SiteDay
	for rows.Next() {
		var d SiteDay
		if err := rows.Scan(&d.Site, &d.Day, &d.Entries, &d.Visitors, &d.Deliveries, &d.Alerts, &d.Fevers); err != nil {
			return nil, fmt.Errorf("month map: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("month map: %w", err)
	}
	return out, nil
}
