package records

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/pgtest"
	"github.com/gatepost/gatepost/internal/storeversion"
	"github.com/gatepost/gatepost/internal/storeversion/storeversiontest"
)

func TestMigrationsAreTheSameStepsOnBothEngines(t *testing.T) {
	list := func(engine string) []string {
		entries, err := fs.ReadDir(migrationFiles, "migrations/"+engine)
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
}

// shape is a SQLite file's tables as their columns (name, type, not null,
// default, key) and its indexes by name: what adopting a file must make
// identical to a new one.
func shape(t *testing.T, s *SQLite) string {
	t.Helper()
	var b strings.Builder
	rows, err := s.read.DB.Query(`SELECT m.name, p.name, p.type, p."notnull", coalesce(p.dflt_value, 'NULL'), p.pk
		FROM sqlite_schema m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name != ? ORDER BY m.name, p.cid`, sqlstore.VersionTable)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, col, typ, dflt string
		var notNull, pk int
		if err := rows.Scan(&table, &col, &typ, &notNull, &dflt, &pk); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s.%s %s notnull=%d default=%s pk=%d\n", table, col, typ, notNull, dflt, pk)
	}
	rows.Close()
	rows, err = s.read.DB.Query(`SELECT name, tbl_name, coalesce(sql, '') FROM sqlite_schema WHERE type = 'index' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, table, sql string
		if err := rows.Scan(&name, &table, &sql); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "index %s on %s: %s\n", name, table, strings.Join(strings.Fields(sql), " "))
	}
	rows.Close()
	return b.String()
}

// lastStep is the number of the last migration (migrations/*/0000N_…).
const lastStep = 5

// TestAdoptedFileHasTheBaseShape opens a hub.db an older build wrote
// (before goose) and a new one: the older file, adopted, has exactly the
// tables, columns and indexes of the new one, the same user_version,
// and goose records it at the base version.

func TestAdoptedFileHasTheBaseShape(t *testing.T) {
	names := storeversiontest.Fixtures(t, "hub-v*.db")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			path := storeversiontest.Copy(t, name+".db", "hub.db")
			if have, known, err := Versions(t.Context(), path); err != nil || have != 0 || known != lastStep {
				t.Errorf("Versions(%s before opening) = %d, %d, %v; want 0, %d (older: serve upgrades it)", name, have, known, err, lastStep)
			}
			old := openAt(t, path)
			fresh := openAt(t, sqlitePath(t))
			if got, want := shape(t, old), shape(t, fresh); got != want || !strings.Contains(want, "entries.purged_at INTEGER notnull=1 default=0") {
				t.Errorf("adopted %s's shape =\n%s\nwant a new file's\n%s", name, got, want)
			}
			for _, s := range []*SQLite{old, fresh} {
				if v, err := sqlstore.Version(t.Context(), s.write, spec(nil)); err != nil || v != lastStep {
					t.Errorf("goose version = %d, %v; want %d", v, err, lastStep)
				}
				if v, err := storeversion.Read(t.Context(), s.read.DB); err != nil || v != SchemaVersion() {
					t.Errorf("user_version = %d, %v; want %d", v, err, SchemaVersion())
				}
			}
			if have, known, err := Versions(t.Context(), path); err != nil || have != lastStep || known != lastStep {
				t.Errorf("Versions(%s adopted) = %d, %d, %v; want %d, %d", name, have, known, err, lastStep, lastStep)
			}
		})
	}
}

func TestVersionsRefusesANewerFile(t *testing.T) {
	path := sqlitePath(t)
	openAt(t, path).Close()
	storeversiontest.SetVersion(t, path, SchemaVersion()+1)
	if _, _, err := Versions(t.Context(), path); !errors.Is(err, storeversion.ErrNewer) {
		t.Fatalf("Versions(user_version %d) = %v, want ErrNewer", SchemaVersion()+1, err)
	}
	if _, _, err := Versions(t.Context(), sqlitePath(t)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Versions(missing file) = %v, want ErrNotExist", err)
	}
}

// TestPostgresOpensOnce: hubs opening one new database together migrate
// it once (the advisory lock), each finds the search indexes, and what
// one stores the others read.
func TestPostgresOpensOnce(t *testing.T) {
	url := pgtest.Database(t)
	stores := make([]*SQLite, 3)
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() {
			stores[i], errs[i] = Open(url)
		})
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		t.Cleanup(func() { s.Close() })
	}
	s := stores[0]
	if v, err := sqlstore.Version(t.Context(), s.write, spec(nil)); err != nil || v != lastStep {
		t.Errorf("goose version = %d, %v; want %d", v, err, lastStep)
	}
	rows, err := s.read.Query(t.Context(), `SELECT indexname FROM pg_indexes WHERE schemaname = ? AND tablename = 'entries'`, Schema)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		have[name] = true
	}
	rows.Close()
	for _, ix := range searchIndexes {
		if !have[ix.name] {
			t.Errorf("PostgreSQL lacks the search index %s (have %v)", ix.name, have)
		}
	}
	// PostgreSQL's own, for one gate and one kind (00003_gate_kind_index.sql).
	if !have["entries_by_kiosk_kind_received"] {
		t.Errorf("PostgreSQL lacks entries_by_kiosk_kind_received (have %v)", have)
	}
	mustSave(t, stores[1], batch("gate-1", 1, 2, 4), t0)
	if c, err := stores[2].Contiguous(t.Context(), "gate-1"); err != nil || c != 2 {
		t.Errorf("Contiguous through another store = %d, %v, want 2", c, err)
	}
}

// TestOpenContextGivesUp: opening ends with ctx, on both engines, and
// opens nothing.
func TestOpenContextGivesUp(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, dsn := range []string{sqlitePath(t), pgtest.Database(t)} {
		if s, err := OpenContext(ctx, dsn, nil); err == nil {
			s.Close()
			t.Errorf("OpenContext(cancelled, %s) succeeded", dsn)
		}
	}
	if _, err := OpenContext(t.Context(), "", nil); err == nil {
		t.Error("OpenContext(\"\") succeeded")
	}
}

// TestPostgresReopenKeepsEverything: a store closed and opened again on
// its database finds what it held and carries on.
func TestPostgresReopenKeepsEverything(t *testing.T) {
	url := pgtest.Database(t)
	s, err := Open(url)
	if err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, batch("gate-1", 1, 2, 4), t0)
	before, err := s.Entries(t.Context(), Query{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = openAt(t, url)
	after, err := s.Entries(t.Context(), Query{})
	if err != nil || !reflect.DeepEqual(after, before) {
		t.Errorf("after reopen Entries =\n%+v, %v\nwant\n%+v", after, err, before)
	}
	if gaps, err := s.Gaps(t.Context(), "gate-1"); err != nil || !reflect.DeepEqual(gaps, []Range{{3, 3}}) {
		t.Errorf("after reopen Gaps = %v, %v, want [{3 3}]", gaps, err)
	}
	if got := mustSave(t, s, batch("gate-1", 3), t0); got.Contiguous != 4 {
		t.Errorf("after reopen SaveBatch(3) contiguous = %d, want 4", got.Contiguous)
	}
}

// TestPostgresRefusesANewerSchema: a database a newer hub migrated past
// this build's last step is refused, naming both versions.
func TestPostgresRefusesANewerSchema(t *testing.T) {
	url := pgtest.Database(t)
	s := openAt(t, url)
	if _, err := s.write.Exec(t.Context(), `INSERT INTO `+sqlstore.VersionTable+` (version_id, is_applied) VALUES (?, true)`, 7); err != nil {
		t.Fatal(err)
	}
	again, err := Open(url)
	if err == nil {
		again.Close()
		t.Fatal("Open of a database at version 7 succeeded")
	}
	if want := fmt.Sprintf("version 7, this hub knows versions up to %d", lastStep); !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open of a database at version 7 = %v; want ErrNewerSchema saying %q", err, want)
	}
}
