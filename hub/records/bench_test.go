package records

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/sqlstore"
)

// The console's benchmarks run over a store of a 167-compound subdistrict
// for a month: GATEPOST_BENCH_ENTRIES entries (default 1,000,000). Seeding
// takes a while, so GATEPOST_BENCH_DB may name a file to keep and reuse,
// or a PostgreSQL database (postgres://…), seeded when it holds no
// entries. GATEPOST_BENCH_POSTGRES names a PostgreSQL database to run
// each benchmark on beside SQLite, in one run (sub-benchmarks sqlite and
// postgres; docs/benchmarks.md). Run with:
//
//	go test ./hub/records -run '^$' -bench 'Console' -benchtime 200x -timeout 30m
func benchStore(b *testing.B, path string) *SQLite {
	b.Helper()
	n := 1_000_000
	if s := os.Getenv("GATEPOST_BENCH_ENTRIES"); s != "" {
		fmt.Sscan(s, &n)
	}
	if path == "" {
		path = filepath.Join(b.TempDir(), "hub.db")
	}
	_, statErr := os.Stat(path)
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if sqlstore.IsPostgres(path) {
		latest, err := s.Latest(b.Context(), 1)
		if err != nil {
			b.Fatal(err)
		}
		statErr = nil
		if len(latest) == 0 {
			statErr = os.ErrNotExist
		}
	}
	if statErr != nil {
		start := time.Now()
		if err := s.Seed(b.Context(), SeedPlan{Sites: 167, Kiosks: 1, Entries: n, Start: seedStart, Span: 28 * 24 * time.Hour, Seed: 3}); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d entries in %s", n, time.Since(start).Round(time.Millisecond))
	}
	return s
}

// onEachEngine runs bench on the store GATEPOST_BENCH_DB names (SQLite
// by default) and, when GATEPOST_BENCH_POSTGRES names a database, as
// sub-benchmarks sqlite and postgres.
func onEachEngine(b *testing.B, bench func(*testing.B, *SQLite)) {
	pg := os.Getenv("GATEPOST_BENCH_POSTGRES")
	if pg == "" {
		bench(b, benchStore(b, os.Getenv("GATEPOST_BENCH_DB")))
		return
	}
	b.Run("sqlite", func(b *testing.B) { bench(b, benchStore(b, os.Getenv("GATEPOST_BENCH_DB"))) })
	b.Run("postgres", func(b *testing.B) { bench(b, benchStore(b, pg)) })
}

// BenchmarkConsoleSearch runs the entries table's first page under a
// rotation of filters and reports the p99 latency.
func BenchmarkConsoleSearch(b *testing.B) { onEachEngine(b, benchConsoleSearch) }

func benchConsoleSearch(b *testing.B, s *SQLite) {
	day := func(d int) time.Time { return seedStart.Add(time.Duration(d) * 24 * time.Hour) }
	filters := []Filter{
		{},
		{Site: "huamu-042"},
		{Site: "huamu-042", From: day(10), To: day(11)},
		{Kiosk: "huamu-100-gate-1", Kind: "visitor"},
		{Decision: "alert"},
		{Fever: true},
		{Fever: true, From: day(3), To: day(4)},
		{Kind: "delivery", From: day(20), To: day(21)},
		{Site: "huamu-099", Unit: "3-201"},
		{Kiosk: "huamu-100-gate-1", Unit: "2-101"},
		{Site: "huamu-007", Decision: "deny"},
		{Site: "huamu-150", Kind: "visitor", Fever: true},
		{Site: "huamu-150", Unit: "5-301"},
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f := filters[i%len(filters)]
		start := time.Now()
		if _, err := s.Search(b.Context(), f, i%3, 50); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	reportPercentiles(b, lat)
}

// BenchmarkConsoleMonthMap computes the subdistrict's month.
func BenchmarkConsoleMonthMap(b *testing.B) { onEachEngine(b, benchConsoleMonthMap) }

func benchConsoleMonthMap(b *testing.B, s *SQLite) {
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		days, err := s.MonthMap(b.Context(), "2026-02")
		if err != nil {
			b.Fatal(err)
		}
		if len(days) < 167*27 {
			b.Fatalf("month map has %d compound-days", len(days))
		}
		lat = append(lat, time.Since(start))
	}
	reportPercentiles(b, lat)
}

// BenchmarkConsoleOneMap computes one compound's day.
func BenchmarkConsoleOneMap(b *testing.B) { onEachEngine(b, benchConsoleOneMap) }

func benchConsoleOneMap(b *testing.B, s *SQLite) {
	lat := make([]time.Duration, 0, b.N)
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if _, err := s.OneMap(b.Context(), fmt.Sprintf("huamu-%03d", 1+i%167), fmt.Sprintf("2026-02-%02d", 1+i%28)); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
