package operators

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

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/pgtest"
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
		t.Errorf("SchemaVersion() = %d, want %d, the last step", SchemaVersion(), len(lite))
	}
}

// versions lists the migrations goose recorded in the store, lowest first.
func versions(t *testing.T, s *Store) []int64 {
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

func allSteps() []int64 {
	var out []int64
	for v := range SchemaVersion() + 1 {
		out = append(out, int64(v))
	}
	return out
}

// shape describes a SQLite file's tables and indexes: every column with
// its type, NOT NULL, default and key, and every index's columns.
func shape(t *testing.T, s *Store) []string {
	t.Helper()
	ctx := t.Context()
	rows, err := s.db.QueryContext(ctx, `SELECT type, name, tbl_name FROM sqlite_master
		WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' AND name != ? ORDER BY type, name`, sqlstore.VersionTable)
	if err != nil {
		t.Fatal(err)
	}
	type object struct{ kind, name, table string }
	var objects []object
	for rows.Next() {
		var o object
		if err := rows.Scan(&o.kind, &o.name, &o.table); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, o)
	}
	rows.Close()
	var out []string
	for _, o := range objects {
		q := `SELECT name || ' ' || type || ' notnull=' || "notnull" || ' default=' || coalesce(dflt_value, '-') || ' pk=' || pk FROM pragma_table_info(?)`
		if o.kind == "index" {
			q = `SELECT coalesce(name, '?') FROM pragma_index_info(?)`
		}
		cols, err := s.db.QueryContext(ctx, q, o.name)
		if err != nil {
			t.Fatal(err)
		}
		for cols.Next() {
			var c string
			if err := cols.Scan(&c); err != nil {
				t.Fatal(err)
			}
			out = append(out, o.kind+" "+o.table+"."+o.name+": "+c)
		}
		cols.Close()
	}
	return out
}

// A console.db made before goose, at either of its versions, is adopted
// into exactly the shape goose gives a new file, and goose records every
// step once.
func TestAdoptedFilesHaveTheShapeOfANewOne(t *testing.T) {
	fresh := openAt(t, filepath.Join(t.TempDir(), FileName), nil)
	want := shape(t, fresh)
	if len(want) < 30 {
		t.Fatalf("a new file's shape is %d lines, too few to compare: %v", len(want), want)
	}
	for _, fixture := range []string{"console-v0.db", "console-v1.db"} {
		t.Run(fixture, func(t *testing.T) {
			path := copyFixture(t, fixture)
			for i := range 2 { // the second open finds it adopted
				s, err := Open(path, nil)
				if err != nil {
					t.Fatalf("open #%d of %s: %v", i+1, fixture, err)
				}
				if got := versions(t, s); !slices.Equal(got, allSteps()) {
					t.Errorf("open #%d: goose recorded %v, want %v", i+1, got, allSteps())
				}
				if got := shape(t, s); !slices.Equal(got, want) {
					t.Errorf("open #%d: %s adopted has the shape\n%s\nwant\n%s", i+1, fixture, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				s.Close()
			}
			have, known, err := Versions(t.Context(), path)
			if err != nil || have != int64(SchemaVersion()) || known != int64(SchemaVersion()) {
				t.Errorf("Versions(%s adopted) = %d, %d, %v; want %d, %d", fixture, have, known, err, SchemaVersion(), SchemaVersion())
			}
		})
	}
}

// copyFixture copies testdata/name into a temporary folder as console.db.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Versions reads a file made before goose at the version adopting it
// records, without changing it.
func TestVersionsOfAFileMadeBeforeGoose(t *testing.T) {
	path := copyFixture(t, "console-v0.db")
	before, _ := os.ReadFile(path)
	have, known, err := Versions(t.Context(), path)
	if err != nil || have != lastPreGoose || known != int64(SchemaVersion()) {
		t.Errorf("Versions(console-v0.db) = %d, %d, %v; want %d, %d", have, known, err, lastPreGoose, SchemaVersion())
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("Versions changed the file")
	}
	if _, _, err := Versions(t.Context(), filepath.Join(t.TempDir(), FileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Versions(missing file) = %v, want fs.ErrNotExist", err)
	}
}

// A store migrated by a newer hub is refused, naming both versions.
func TestRefusesAStoreMigratedByANewerHub(t *testing.T) {
	onEngines(t, func(t *testing.T, e testEngine) {
		ctx := context.Background()
		dsn := e.dsn(t)
		s, err := OpenContext(ctx, dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.Exec(ctx, `INSERT INTO `+sqlstore.VersionTable+` (version_id, is_applied) VALUES (?, ?)`, 99, true); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err = OpenContext(ctx, dsn, nil)
		if !errors.Is(err, sqlstore.ErrNewerSchema) || !strings.Contains(err.Error(), "version 99") ||
			!strings.Contains(err.Error(), fmt.Sprintf("up to %d", SchemaVersion())) {
			t.Fatalf("Open(a store at version 99) = %v; want ErrNewerSchema naming 99 and %d", err, SchemaVersion())
		}
	})
}

// Hubs (or a hub and a command) opening one new store at the same moment
// migrate it once, and all open.
func TestOpeningTogetherMigratesOnce(t *testing.T) {
	onEngines(t, func(t *testing.T, e testEngine) {
		dsn := e.dsn(t)
		const n = 4
		stores := make([]*Store, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { stores[i], errs[i] = OpenContext(t.Context(), dsn, nil) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Open #%d of %d at once = %v", i+1, n, err)
			}
			defer stores[i].Close()
		}
		if got := versions(t, stores[0]); !slices.Equal(got, allSteps()) {
			t.Fatalf("goose recorded %v, want each of %v once", got, allSteps())
		}
		if err := stores[n-1].AddUser(t.Context(), "li", "a long password", false); err != nil {
			t.Fatal(err)
		}
	})
}

// On PostgreSQL the store's tables are in their own schema, so the hub's
// other stores can share the database.
func TestPostgresTablesLiveInTheirSchema(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.Database(t)
	openAt(t, dsn, nil)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT schemaname || '.' || tablename FROM pg_tables
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
	want := []string{"operators.alerts", "operators.api_tokens", "operators.audit", "operators.devices",
		"operators.goose_db_version", "operators.sessions", "operators.settings", "operators.sign_in_failures",
		"operators.sign_in_slowed", "operators.users"}
	if !slices.Equal(tables, want) {
		t.Fatalf("tables = %v, want %v", tables, want)
	}
}
