package passes

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/pgtest"
	"github.com/gatepost/gatepost/internal/storeversion"
	"github.com/gatepost/gatepost/internal/storeversion/storeversiontest"
)

func TestMigrationsAreTheSameStepsOnBothEngines(t *testing.T) {
	list := func(engine string) []string {
		entries, err := fs.ReadDir(migrations, "migrations/"+engine)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}
	lite, pg := list("sqlite"), list("postgres")
	if !slices.Equal(lite, pg) || len(lite) == 0 {
		t.Fatalf("migrations/sqlite %v and migrations/postgres %v: want the same numbered steps", lite, pg)
	}
	for i, name := range lite {
		if want := fmt.Sprintf("%05d_", i+1); !strings.HasPrefix(name, want) {
			t.Errorf("migration %s: want it to start %s (steps numbered 1, 2, … with no gap)", name, want)
		}
	}
	if SchemaVersion() != len(lite) {
		t.Errorf("SchemaVersion() = %d, want the %d steps", SchemaVersion(), len(lite))
	}
}

// gooseVersions lists the migrations goose recorded in the store, lowest
// first.
func gooseVersions(t *testing.T, s *Store) []int64 {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(), `SELECT version_id FROM `+sqlstore.VersionTable+` ORDER BY version_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// allSteps is what goose records once every step is applied: 0 (its own
// table), then each step.
func allSteps() []int64 {
	var out []int64
	for v := range SchemaVersion() + 1 {
		out = append(out, int64(v))
	}
	return out
}

// The fixture made before goose (user_version 0) is adopted at version 1:
// the base step not run on it (its plain CREATE TABLE would fail there),
// goose's table recording 0 and 1, user_version following goose, and the
// second open finding nothing to do. What it holds is read back by
// TestOpensOlderFiles.
func TestAdoptsAFileMadeBeforeGoose(t *testing.T) {
	dir := copyFixture(t, "passes-v0")
	path := filepath.Join(dir, DBFile)
	if have, known, err := Versions(t.Context(), path); err != nil || have != 1 || known != int64(SchemaVersion()) {
		t.Fatalf("Versions(passes-v0 before opening) = %d, %d, %v; want 1 and %d", have, known, err, SchemaVersion())
	}
	for i := range 2 {
		s, err := Open(dir, clock.NewFake(upgradeNow))
		if err != nil {
			t.Fatalf("open #%d of passes-v0: %v", i+1, err)
		}
		if got := gooseVersions(t, s); !slices.Equal(got, allSteps()) {
			t.Errorf("open #%d: goose recorded %v, want %v", i+1, got, allSteps())
		}
		if n := len(mustKeys(t, s)); n != 3 {
			t.Errorf("open #%d: %d keys, want the fixture's 3", i+1, n)
		}
		s.Close()
		if v := storeversiontest.Version(t, path); v != SchemaVersion() {
			t.Errorf("open #%d: user_version %d, want goose's %d", i+1, v, SchemaVersion())
		}
	}
	if have, known, err := Versions(t.Context(), path); err != nil || have != known {
		t.Errorf("Versions(adopted file) = %d, %d, %v; want it current", have, known, err)
	}
}

func mustKeys(t *testing.T, s *Store) []Key {
	t.Helper()
	keys, err := s.Keys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// Versions reads without changing: a newer user_version is reported as
// such (for the doctor to refuse), a missing file is fs.ErrNotExist.
func TestVersionsReadsWithoutChanging(t *testing.T) {
	dir := copyFixture(t, "passes-v0")
	path := filepath.Join(dir, DBFile)
	storeversiontest.SetVersion(t, path, 7)
	before := storeversiontest.Snapshot(t, dir)
	if have, known, err := Versions(t.Context(), path); err != nil || have != 7 || known != int64(SchemaVersion()) {
		t.Errorf("Versions(user_version 7) = %d, %d, %v; want 7 and %d", have, known, err, SchemaVersion())
	}
	storeversiontest.Unchanged(t, dir, before)
	if _, _, err := Versions(t.Context(), filepath.Join(dir, "none.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Versions(missing) = %v, want fs.ErrNotExist", err)
	}
}

// A pre-goose file whose user_version is newer than any before goose is
// refused by the adoption itself too (a process that passed the check
// before another pushed it), and left as it was.
func TestAdoptRefusesANewerUserVersion(t *testing.T) {
	dir := copyFixture(t, "passes-v0")
	path := filepath.Join(dir, DBFile)
	storeversiontest.SetVersion(t, path, len(userVersionSteps)+1)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := preGooseVersion(t.Context(), db); !errors.Is(err, storeversion.ErrNewer) {
		t.Errorf("preGooseVersion(user_version %d) = %v, want ErrNewer", len(userVersionSteps)+1, err)
	}
}

// A store migrated by a newer hub (goose's record beyond this build's
// steps) is refused, naming both versions, and left as it was.
func TestRefusesAStoreFromANewerHub(t *testing.T) {
	eachEngine(t, func(t *testing.T, e testEngine) {
		ctx := context.Background()
		dir := t.TempDir()
		dsn := e.dsn(t, dir)
		s, err := OpenDatabase(ctx, dsn, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.Exec(ctx, `INSERT INTO `+sqlstore.VersionTable+` (version_id, is_applied) VALUES (?, ?)`, 99, true); err != nil {
			t.Fatal(err)
		}
		s.Close()
		before := storeversiontest.Snapshot(t, dir)
		_, err = OpenDatabase(ctx, dsn, dir, nil)
		if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "version 99") ||
			!strings.Contains(err.Error(), fmt.Sprintf("up to %d", SchemaVersion())) {
			t.Fatalf("Open(a store at version 99) = %v; want ErrNewerSchema naming 99 and %d", err, SchemaVersion())
		}
		storeversiontest.Unchanged(t, dir, before)
	})
}

// Hubs (or a hub and a command) opening one new store at the same moment
// migrate it once, and all open.
func TestOpeningTogetherMigratesOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, e testEngine) {
		dir := t.TempDir()
		dsn := e.dsn(t, dir)
		const n = 4
		stores := make([]*Store, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { stores[i], errs[i] = OpenDatabase(t.Context(), dsn, dir, nil) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Open #%d of %d at once = %v", i+1, n, err)
			}
			defer stores[i].Close()
		}
		if got := gooseVersions(t, stores[0]); !slices.Equal(got, allSteps()) {
			t.Fatalf("goose recorded %v, want each of %v once", got, allSteps())
		}
		if l, err := stores[n-1].StatusList(t.Context(), "huamu-1"); err != nil || l.Version != 1 {
			t.Fatalf("StatusList of a new store = %+v, %v; want version 1", l, err)
		}
	})
}

// On PostgreSQL the store's tables are in their own schema, so the hub's
// other stores can share the database.
func TestPostgresTablesLiveInTheirSchema(t *testing.T) {
	dsn := pgtest.Database(t)
	openAt(t, dsn, t.TempDir(), nil)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), `SELECT schemaname || '.' || tablename FROM pg_tables
		WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	want := []string{"passes.goose_db_version", "passes.keys", "passes.passes", "passes.versions"}
	if !slices.Equal(tables, want) {
		t.Fatalf("tables = %v, want %v", tables, want)
	}
}

func TestOpenSaysWhatIsWrongWithTheDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dir := t.TempDir()
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://gatepost@/gatepost?host=" + t.TempDir(), "open pass store in PostgreSQL database gatepost at "},
		{"postgres://a:b@host:notaport/db", "the PostgreSQL URL"},
		{filepath.Join(dir, "no-such-folder", DBFile), "open pass store"},
	} {
		s, err := OpenDatabase(ctx, tc.dsn, dir, nil)
		if err == nil {
			s.Close()
			t.Errorf("OpenDatabase(%q) = nil error", tc.dsn)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("OpenDatabase(%q) = %v; want it to say %q", tc.dsn, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "no-such-folder")); err == nil {
		t.Error("OpenDatabase made the missing folder of a SQLite path")
	}
}
