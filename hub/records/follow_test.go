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

// The alert follower and the live view read what arrived since their
// cursor once a second: on SQLite their queries must search the receipt
// index from the cursor, not scan every entry the hub holds (they did,
// with the cursor's OR alone: 250 ms a poll over 50,000 entries).
func TestFollowerQueriesSearchFromTheCursor(t *testing.T) {
	t.Parallel()
	s := seeded(t, 5000)
	c := newestCursor(t, s, 100)
	urgent, uargs, err := s.urgentQuery(c, 500, []string{"post_understaffed"})
	if err != nil {
		t.Fatal(err)
	}
	since, sargs := sinceQuery(c, 500)
	for _, q := range []struct {
		name  string
		query string
		args  []any
	}{{"Since", since, sargs}, {"UrgentSince", urgent, uargs}} {
		rows, err := s.read.Query(t.Context(), `EXPLAIN QUERY PLAN `+q.query, q.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(plan, "; ")
		if !strings.Contains(got, "SEARCH entries USING INDEX entries_by_received (received_at>") {
			t.Errorf("%s's plan is %q: want a search of entries_by_received from the cursor", q.name, got)
		}
	}
}

// beforeAfterCursor is afterCursor as it was: the cursor's OR alone,
// which SQLite answered by scanning the whole receipt index.
const beforeAfterCursor = `(received_at > ? OR (received_at = ? AND (kiosk > ? OR (kiosk = ? AND seq > ?))))`

// BenchmarkFollowerPoll is the alert follower's query (UrgentSince's)
// with 200 entries arrived since its cursor, over the console benchmarks'
// store (GATEPOST_BENCH_ENTRIES, default 1,000,000; GATEPOST_BENCH_DB to
// keep it), in turns with the query as it was before the cursor's range
// condition; it reports both and the ratio:
//
//	go test ./hub/records -run '^$' -bench FollowerPoll -benchtime 20x -timeout 30m
func BenchmarkFollowerPoll(b *testing.B) {
	onEachEngine(b, func(b *testing.B, s *SQLite) {
		c := newestCursor(b, s, 200)
		now, args, err := s.urgentQuery(c, 500, []string{"post_understaffed"})
		if err != nil {
			b.Fatal(err)
		}
		before := strings.Replace(now, afterCursor, beforeAfterCursor, 1)
		if before == now {
			b.Fatal("the query holds no afterCursor")
		}
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
			d0, n0 := run(before, args[1:]) // the old condition had no first Received
			if n != n0 {
				b.Fatalf("the queries disagree: %d rows now, %d before", n, n0)
			}
			tNow, tBefore = tNow+d, tBefore+d0
		}
		per := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
		b.ReportMetric(per(tNow), "ms/poll")
		b.ReportMetric(per(tBefore), "ms/poll-before")
		b.ReportMetric(float64(tBefore)/float64(tNow), "x-faster")
		fmt.Printf("follower poll: %.3f ms now, %.3f ms before the cursor's range (%.0fx)\n", per(tNow), per(tBefore), float64(tBefore)/float64(tNow))
	})
}
