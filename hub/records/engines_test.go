package records

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/internal/pgtest"
)

// engine opens a new, empty store on one of the two engines.
type engine struct {
	name string
	open func(tb testing.TB) *SQLite
}

// engines are the two: a new SQLite file, and a new PostgreSQL database
// (internal/pgtest: skipped without a test server, failed under CI).
var engines = []engine{
	{"sqlite", func(tb testing.TB) *SQLite {
		s, _ := openStore(tb)
		return s
	}},
	{"postgres", func(tb testing.TB) *SQLite {
		return openAt(tb, pgtest.Database(tb))
	}},
}

// openAt opens the store dsn names and closes it when tb ends.
func openAt(tb testing.TB, dsn string) *SQLite {
	tb.Helper()
	s, err := Open(dsn)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// onEngines runs f as a subtest per engine, each with a new store.
func onEngines(t *testing.T, f func(t *testing.T, s *SQLite)) {
	t.Helper()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			f(t, e.open(t))
		})
	}
}

// sqlitePath is a new SQLite file's path in a test's own folder.
func sqlitePath(tb testing.TB) string { return filepath.Join(tb.TempDir(), "hub.db") }

// jsonSet is the engine's expression for the stored body with the field
// at path (dotted) set to value (JSON): a test's edit behind the hub's
// back.
func jsonSet(s *SQLite, path, value string) string {
	if s.dialect == postgresDialect {
		return `jsonb_set(body::jsonb, '{` + strings.ReplaceAll(path, ".", ",") + `}', '` + value + `')::text`
	}
	return `json_set(body, '$.` + path + `', json('` + value + `'))`
}

// sibling opens another new store on s's engine.
func sibling(tb testing.TB, s *SQLite) *SQLite {
	tb.Helper()
	if s.dialect == postgresDialect {
		return engines[1].open(tb)
	}
	return engines[0].open(tb)
}
