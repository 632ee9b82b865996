package records

import (
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// freshMonthCounts is the month view's definition, counted from scratch
// over the entries table: what the site_day rollup must always equal.
func freshMonthCounts(s *SQLite) string {
	if s.dialect == postgresDialect {
		return freshMonthCountsPostgres
	}
	return freshMonthCountsSQLite
}

const freshMonthCountsPostgres = `SELECT site, substr(time, 1, 10) AS day,
	sum(CASE WHEN kind = 'check' THEN 1 ELSE 0 END), sum(CASE WHEN kind = 'visitor' THEN 1 ELSE 0 END),
	sum(CASE WHEN kind = 'delivery' THEN greatest(coalesce((body::jsonb ->> 'count')::bigint, 1), 1) ELSE 0 END)::bigint,
	sum(CASE WHEN decision = 'alert' THEN 1 ELSE 0 END),
	sum(CASE WHEN jsonb_typeof(body::jsonb -> 'reasons') = 'array' AND EXISTS (
		SELECT 1 FROM jsonb_array_elements_text(body::jsonb -> 'reasons') r
		WHERE substr(r, 1, 5) = 'fever') THEN 1 ELSE 0 END)
	FROM entries GROUP BY site, day ORDER BY site, day`

const freshMonthCountsSQLite = `SELECT site, substr(time, 1, 10) AS day,
	sum(kind = 'check'), sum(kind = 'visitor'),
	sum(CASE WHEN kind = 'delivery' THEN max(coalesce(json_extract(body, '$.count'), 1), 1) ELSE 0 END),
	sum(decision = 'alert'),
	sum(EXISTS (SELECT 1 FROM json_each(body, '$.reasons') WHERE substr(value, 1, 5) = 'fever'))
	FROM entries GROUP BY site, day ORDER BY site, day`

func countsBy(tb testing.TB, db *sql.DB, query string) []SiteDay {
	tb.Helper()
	rows, err := db.Query(query)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	out := []SiteDay{}
	for rows.Next() {
		var d SiteDay
		if err := rows.Scan(&d.Site, &d.Day, &d.Entries, &d.Visitors, &d.Deliveries, &d.Alerts, &d.Fevers); err != nil {
			tb.Fatal(err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// assertRollup fails unless the rollup equals a fresh count over entries.
func assertRollup(tb testing.TB, s *SQLite, when string) {
	tb.Helper()
	want := countsBy(tb, s.read.DB, freshMonthCounts(s))
	got := countsBy(tb, s.read.DB, `SELECT site, day, checks, visitors, deliveries, alerts, fevers
		FROM site_day ORDER BY site, day`)
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("%s: site_day =\n%+v\nwant (fresh GROUP BY)\n%+v", when, got, want)
	}
}

// mixedEntry varies kind, decision, reasons and the kiosk's day (and zone)
// with seq, so a few dozen entries cover every counter.
func mixedEntry(kiosk string, seq uint64) protocol.Entry {
	cst := time.FixedZone("CST", 8*3600)
	e := entry(kiosk, seq)
	// 23:40 local, stepping 7 minutes: days roll over inside batches.
	e.Time = time.Date(2026, 2, 27, 23, 40, 0, 0, cst).Add(time.Duration(seq) * 7 * time.Minute)
	if seq%5 == 0 {
		e.Time = e.Time.UTC() // a kiosk writing UTC: its own day is the UTC date
	}
	switch seq % 6 {
	case 1:
		e.Decision, e.Reasons = protocol.DecisionAlert, []string{"pass_valid", "fever_confirmed"}
	case 2:
		e.Kind, e.Scan, e.Temperature = protocol.KindVisitor, "", nil
		e.Visitor = &protocol.Visitor{Name: "张伟", Contact: "13800001111", Visiting: "3-201", Purpose: "fever clinic"}
		e.Reasons = []string{"visitor_registered"}
	case 3:
		e.Kind, e.Decision, e.Reasons, e.Scan, e.Temperature = protocol.KindDelivery, protocol.DecisionRecord, nil, "", nil
		e.Count = 3
	case 4:
		e.Decision, e.Reasons = protocol.DecisionAlert, []string{"pass_revoked"}
	case 5:
		e.Kind, e.Decision, e.Reasons, e.Scan, e.Temperature = protocol.KindDisinfection, protocol.DecisionRecord, nil, "", nil
		e.Area = "lift buttons"
	}
	return e
}

func mixedBatch(kiosk, site string, seqs ...uint64) protocol.Batch {
	b := protocol.Batch{Kiosk: kiosk, Site: site, Sent: t0}
	for _, seq := range seqs {
		b.Entries = append(b.Entries, mixedEntry(kiosk, seq))
	}
	return b
}

func TestRollupEqualsFreshCount(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		ctx := t.Context()
		assertRollup(t, s, "empty")

		mustSave(t, s, mixedBatch("gate-1", "huamu-001", span(1, 40)...), t0)
		mustSave(t, s, mixedBatch("gate-2", "huamu-002", 1, 2, 3, 7, 8), t0)
		assertRollup(t, s, "after ingest")

		// Duplicates change nothing.
		if got := mustSave(t, s, mixedBatch("gate-1", "huamu-001", span(30, 45)...), t0); got.Duplicates != 11 || got.Inserted != 5 {
			t.Fatalf("duplicates: %+v", got)
		}
		assertRollup(t, s, "after duplicates")

		// A conflict (same seq, other content) is refused and not counted.
		c := mixedBatch("gate-2", "huamu-002", 4, 5, 6)
		c.Entries[0].Kind, c.Entries[0].Decision, c.Entries[0].Reasons = protocol.KindCheck, protocol.DecisionAlert, []string{"fever"}
		mustSave(t, s, c, t0)
		conflicting := mixedBatch("gate-2", "huamu-002", 4)
		conflicting.Entries[0].Kind, conflicting.Entries[0].Reasons = protocol.KindVisitor, []string{"fever_hold"}
		conflicting.Entries[0].Visitor = &protocol.Visitor{Name: "王芳"}
		conflicting.Entries[0].Scan, conflicting.Entries[0].Temperature = "", nil
		if got := mustSave(t, s, conflicting, t0); got.Conflicts != 1 {
			t.Fatalf("conflict: %+v", got)
		}
		assertRollup(t, s, "after a conflict")

		// An import: partly held already, partly new, one conflicting.
		var err error
		var got Saved
		imp := protocol.Bundle{Kiosk: "gate-2", Site: "huamu-002", From: 5, To: 30, Exported: t0}
		for seq := uint64(5); seq <= 30; seq++ {
			imp.Entries = append(imp.Entries, mixedEntry("gate-2", seq))
		}
		imp.Entries[3].Reasons = []string{"fever"} // seq 8, held with other reasons
		if imp.SHA256, err = protocol.BundleChecksum(imp.Entries); err != nil {
			t.Fatal(err)
		}
		got, err = s.ImportBundle(ctx, imp)
		if err != nil {
			t.Fatal(err)
		}
		if got.Inserted != 22 || got.Duplicates != 3 || got.Conflicts != 1 {
			t.Fatalf("import: %+v", got)
		}
		assertRollup(t, s, "after an import")
		if again, err := s.ImportBundle(ctx, imp); err != nil || again.Inserted != 0 {
			t.Fatalf("import again: %+v, %v", again, err)
		}
		assertRollup(t, s, "after importing again")

		// Retention purges rewrite bodies (the visitors' purpose mentions a
		// fever clinic); the counts stay.
		before := countsBy(t, s.read.DB, freshMonthCounts(s))
		for _, kind := range PurgeKinds {
			if n, err := s.Purge(ctx, kind, t0.Add(time.Hour), false); err != nil || n == 0 {
				t.Fatalf("purge %s = %d, %v", kind, n, err)
			}
		}
		assertRollup(t, s, "after purges")
		if after := countsBy(t, s.read.DB, freshMonthCounts(s)); !reflect.DeepEqual(after, before) {
			t.Errorf("purge changed the counts:\n%+v\nwant\n%+v", after, before)
		}

		// More live entries after all that, and the seed's path.
		mustSave(t, s, mixedBatch("gate-1", "huamu-001", span(46, 60)...), t0)
		if err := s.Seed(ctx, SeedPlan{Sites: 3, Kiosks: 1, Entries: 500, Start: t0, Span: 3 * 24 * time.Hour, Seed: 5}); err != nil {
			t.Fatal(err)
		}
		assertRollup(t, s, "after more ingest and a seed")

		month, err := s.MonthMap(ctx, "2026-02")
		if err != nil {
			t.Fatal(err)
		}
		var want []SiteDay
		for _, d := range countsBy(t, s.read.DB, freshMonthCounts(s)) {
			if d.Day[:7] == "2026-02" {
				want = append(want, d)
			}
		}
		if !reflect.DeepEqual(month, want) {
			t.Errorf("MonthMap(2026-02) =\n%+v\nwant\n%+v", month, want)
		}
	})
}

// TestRollupBuiltOnUpgrade opens a file as the previous build left it
// (schema version 3, no rollup) and finds the rollup built from entries.
func TestRollupBuiltOnUpgrade(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hub.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Seed(t.Context(), SeedPlan{Sites: 4, Kiosks: 2, Entries: 3000, Start: seedStart, Span: 5 * 24 * time.Hour, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, mixedBatch("gate-1", "huamu-001", span(1, 30)...), t0)
	for _, q := range []string{`DROP TABLE site_day`, `DROP INDEX entries_by_site_received_unit`, `DROP INDEX entries_by_kiosk_received_unit`,
		`ALTER TABLE entries DROP COLUMN unit`, `ALTER TABLE kiosks DROP COLUMN journal`, `ALTER TABLE entries DROP COLUMN hash`, `ALTER TABLE entries DROP COLUMN prev`,
		`ALTER TABLE entries DROP COLUMN personal`, `ALTER TABLE entries DROP COLUMN purged_at`,
		`DROP INDEX entries_alerting`, `ALTER TABLE entries DROP COLUMN alerting`,
		`DROP INDEX entries_fever_flag`, `ALTER TABLE entries DROP COLUMN fever`, `PRAGMA user_version = 3`, `DROP TABLE goose_db_version`, `DROP TABLE merged_files`} {
		if _, err := s.write.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen at version 3: %v", err)
	}
	defer s.Close()
	if n := len(countsBy(t, s.read.DB, freshMonthCounts(s))); n < 4*5 {
		t.Fatalf("only %d compound-days seeded", n)
	}
	assertRollup(t, s, "after the upgrade")
	mustSave(t, s, mixedBatch("gate-1", "huamu-001", span(31, 50)...), t0)
	assertRollup(t, s, "after ingest past the upgrade")
}
