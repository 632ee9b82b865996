package records

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gatepost/gatepost/protocol"
)

// The month view reads site_day, one row per compound and kiosk day with
// the month's counts, kept in the same transaction as the entries it
// counts: SaveBatch (live and imported) adds what it inserted, Seed
// likewise, and migration 3 builds it once from the entries an older
// build left. Duplicates and conflicts insert nothing and add nothing.
//
// It counts what happened. The hub's retention purge only rewrites the
// personal details of a body (name, phone, scanned text); kind, decision,
// reasons and the kiosk's time stay, and so do the counts. Should a
// future retention delete entries, the month's counts stay as they were:
// a daily summary is a record of its own.

// siteDayBackfill is migration 3's build of site_day from entries.
const siteDayBackfill = `INSERT INTO site_day (day, site, checks, visitors, deliveries, alerts, fevers)
	SELECT substr(time, 1, 10), site,
		sum(kind = 'check'), sum(kind = 'visitor'),
		sum(CASE kind WHEN 'delivery' THEN max(coalesce(json_extract(body, '$.count'), 1), 1) ELSE 0 END),
		sum(decision = 'alert'),
		sum(` + bodyHasFever + `)
	FROM entries GROUP BY substr(time, 1, 10), site`

// bodyHasFever is hasFever in SQL, over a stored body, for the
// migrations that build from the entries an older build left. A reason
// starting "fever" always puts `"fever` in the body, so the instr() only
// spares the JSON walk for the other 98% of entries.
const bodyHasFever = `(instr(body, '"fever') > 0 AND EXISTS (
			SELECT 1 FROM json_each(body, '$.reasons') WHERE substr(value, 1, 5) = 'fever'))`

type siteDayKey struct{ site, day string }

// siteDayCounts collects a transaction's additions to site_day.
type siteDayCounts map[siteDayKey]*SiteDay

// add counts one inserted entry; kioskTime is its time as stored
// (RFC 3339, the kiosk's own offset), whose first ten bytes are its day.
func (c siteDayCounts) add(site, kioskTime string, e protocol.Entry) {
	k := siteDayKey{site, kioskTime[:10]}
	d := c[k]
	if d == nil {
		d = &SiteDay{Site: site, Day: k.day}
		c[k] = d
	}
	switch e.Kind {
	case protocol.KindCheck:
		d.Entries++
	case protocol.KindVisitor:
		d.Visitors++
	case protocol.KindDelivery:
		d.Deliveries += max(e.Count, 1) // parcels, as the day's map counts them
	}
	if e.Decision == protocol.DecisionAlert {
		d.Alerts++
	}
	if hasFever(e.Reasons) {
		d.Fevers++
	}
}

// merge adds the counts of o to c.
func (c siteDayCounts) merge(o siteDayCounts) {
	for k, d := range o {
		if have := c[k]; have != nil {
			have.Entries += d.Entries
			have.Visitors += d.Visitors
			have.Deliveries += d.Deliveries
			have.Alerts += d.Alerts
			have.Fevers += d.Fevers
		} else {
			c[k] = d
		}
	}
}

// write adds the counts to site_day inside tx.
func (c siteDayCounts) write(ctx context.Context, tx querier) error {
	if len(c) == 0 {
		return nil
	}
	up, err := tx.PrepareContext(ctx, `INSERT INTO site_day (day, site, checks, visitors, deliveries, alerts, fevers)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (day, site) DO UPDATE SET checks = site_day.checks + excluded.checks,
			visitors = site_day.visitors + excluded.visitors, deliveries = site_day.deliveries + excluded.deliveries,
			alerts = site_day.alerts + excluded.alerts, fevers = site_day.fevers + excluded.fevers`)
	if err != nil {
		return fmt.Errorf("update month counts: %w", err)
	}
	defer up.Close()
	// One order for every transaction (see lock.go): two that count in
	// the same compound days take their rows in turn, never in a cycle.
	keys := slices.SortedFunc(maps.Keys(c), func(a, b siteDayKey) int {
		return cmp.Or(strings.Compare(a.site, b.site), strings.Compare(a.day, b.day))
	})
	for _, k := range keys {
		d := c[k]
		if _, err := up.ExecContext(ctx, d.Day, d.Site, d.Entries, d.Visitors, d.Deliveries, d.Alerts, d.Fevers); err != nil {
			return fmt.Errorf("update month counts of %s %s: %w", d.Site, d.Day, err)
		}
	}
	return nil
}
