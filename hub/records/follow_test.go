package records

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// newestCursor is the cursor back steps from the newest entry in receipt
// order: a follower's position with back entries still to read.
func newestCursor(tb testing.TB, s *SQLite, back int) Cursor {
	tb.Helper()
	var c Cursor
	if err := s.read.QueryRow(tb.Context(), `SELECT received_at, kiosk, seq FROM entries
		ORDER BY received_at DESC, kiosk DESC, seq DESC LIMIT 1 OFFSET ?`, back).
		Scan(&c.Received, &c.Kiosk, &c.Seq); err != nil {
		tb.Fatal(err)
	}
	return c
}

// queryPlan is SQLite's plan for query on s's readers, its steps joined
// by "; ".
func queryPlan(tb testing.TB, s *SQLite, query string, args ...any) string {
	tb.Helper()
	rows, err := s.read.Query(tb.Context(), `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			tb.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return strings.Join(plan, "; ")
}

// The alert follower and the live view read what arrived since their
// cursor once a second: on SQLite their queries must search an index in
// receipt order from the cursor, not scan every entry the hub holds (they
// did, with the cursor's OR alone: 250 ms a poll over 50,000 entries),
// and the follower's the alerting entries' own index.
func TestFollowerQueriesSearchFromTheCursor(t *testing.T) {
	t.Parallel()
	s := seeded(t, 5000)
	c := newestCursor(t, s, 100)
	urgent, uargs := urgentQuery(c, 500)
	since, sargs := sinceQuery(c, 500)
	for _, q := range []struct {
		name, index string
		query       string
		args        []any
	}{{"Since", "entries_by_received", since, sargs}, {"UrgentSince", "entries_alerting", urgent, uargs}} {
		got := queryPlan(t, s, q.query, q.args...)
		if !strings.Contains(got, "SEARCH entries USING INDEX "+q.index+" (received_at>") {
			t.Errorf("%s's plan is %q: want a search of %s from the cursor", q.name, got, q.index)
		}
	}
}

// textualUrgentQuery is UrgentSince's query before the alerting column:
// every entry after the cursor read, and its body's text tested.
func textualUrgentQuery(s *SQLite, c Cursor, limit int) (string, []any) {
	contains := `instr(body, ?) > 0`
	if s.dialect == postgresDialect {
		contains = `strpos(body, ?) > 0`
	}
	may := `decision = 'alert' OR ` + strings.Replace(contains, "?", `'"alert":true'`, 1)
	args := c.args()
	for _, r := range AlertingReasons {
		args = append(args, `"`+r+`"`)
		may += " OR " + contains
	}
	return `SELECT ` + storedColumns + `, kiosk, seq FROM entries
		WHERE ` + afterCursor + ` AND (` + may + `)
		ORDER BY received_at, kiosk, seq LIMIT ?`, append(args, limit)
}

// BenchmarkFollowerPoll is the alert follower's query (UrgentSince's)
// with 1,000 entries arrived since its cursor, over the console
// benchmarks' store (GATEPOST_BENCH_ENTRIES, default 1,000,000;
// GATEPOST_BENCH_DB to keep it), in turns with the query as it was before
// the alerting column, which read every entry after the cursor; it
// reports both and the ratio:
//
//	go test ./hub/records -run '^$' -bench FollowerPoll -benchtime 20x -timeout 30m
func BenchmarkFollowerPoll(b *testing.B) {
	onEachEngine(b, func(b *testing.B, s *SQLite) {
		c := newestCursor(b, s, 1000)
		now, args := urgentQuery(c, 500)
		before, bargs := textualUrgentQuery(s, c, 500)
		run := func(q string, args []any) (time.Duration, int) {
			start := time.Now()
			rows, err := s.read.Query(b.Context(), q, args...)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if err := rows.Close(); err != nil {
				b.Fatal(err)
			}
			return time.Since(start), n
		}
		var tNow, tBefore time.Duration
		for b.Loop() {
			d, n := run(now, args)
			d0, n0 := run(before, bargs)
			if n != n0 {
				b.Fatalf("the queries disagree: %d rows now, %d before", n, n0)
			}
			tNow, tBefore = tNow+d, tBefore+d0
		}
		per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
		b.ReportMetric(per(tNow), "ms/poll")
		b.ReportMetric(per(tBefore), "ms/poll-before")
		b.ReportMetric(float64(tBefore)/float64(tNow), "x-faster")
		fmt.Printf("follower poll: %.3f ms now, %.3f ms before the alerting column (%.1fx)\n", per(tNow), per(tBefore), float64(tBefore)/float64(tNow))
	})
}
