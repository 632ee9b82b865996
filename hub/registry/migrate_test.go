package registry

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
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
)

// latest is the newest migration this build has.
func latest(t *testing.T) int64 {
	t.Helper()
	names, err := fs.Glob(migrations, "migrations/sqlite/*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("migrations: %v, %v", names, err)
	}
	return int64(len(names))
}

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

func steps(n int64) []int64 {
	var out []int64
	for v := range n + 1 {
		out = append(out, v)
	}
	return out
}

// TestOpensAFileMadeBeforeGoose opens testdata/kiosks-v1.db, made by the
// hub before the registry used goose: adopted at version 1 (the base step
// not run again: it would fail on the tables there), migrated onwards,
// and every row found and working.
func TestOpensAFileMadeBeforeGoose(t *testing.T) {
	ctx := context.Background()
	var sec v1Secrets
	js, err := os.ReadFile("testdata/kiosks-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &sec); err != nil {
		t.Fatal(err)
	}
	path := copyFile(t, "testdata/kiosks-v1.db")
	c := clock.NewFake(v1Made.Add(48 * time.Hour))
	for i := range 2 { // the second open finds it migrated
		s, err := OpenFile(ctx, path, c)
		if err != nil {
			t.Fatalf("open #%d of kiosks-v1.db: %v", i+1, err)
		}
		if got := versions(t, s); !slices.Equal(got, steps(latest(t))) {
			t.Errorf("open #%d: goose recorded %v, want %v", i+1, got, steps(latest(t)))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	s := openAt(t, path, c)
	if g, err := s.Generation(ctx); err != nil || g != 12 {
		t.Errorf("Generation = %d, %v; want the file's 12", g, err)
	}
	ks, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		site, kiosk string
		state       State
		key         ed25519.PublicKey
		retired     bool
		codeOut     bool
	}
	var got []row
	for _, k := range ks {
		got = append(got, row{k.Site, k.Kiosk, k.State, k.PublicKey, !k.Retired.IsZero(), !k.CodeExpires.IsZero()})
	}
	pub := func(seed byte) ed25519.PublicKey { return kioskKey(seed).Public().(ed25519.PublicKey) }
	want := []row{
		{"huamu-1", "gate-1", Enrolled, pub(1), false, true},
		{"huamu-1", "gate-2", Enrolled, pub(2), false, false},
		{"huamu-2", "gate-3", Retired, pub(3), true, false},
		{"huamu-2", "gate-4", Pending, nil, false, false},
		{"huamu-2", "gate-5", Pending, nil, false, true},
	}
	if !slices.EqualFunc(got, want, func(a, b row) bool {
		return a.site == b.site && a.kiosk == b.kiosk && a.state == b.state && a.key.Equal(b.key) && a.retired == b.retired && a.codeOut == b.codeOut
	}) {
		t.Fatalf("List of kiosks-v1.db =\n%+v\nwant\n%+v", got, want)
	}
	for _, cr := range []Credentials{sec.Gate1, sec.Gate2} {
		if _, ok := s.Authenticate(ctx, cr.Username, cr.Secret); !ok {
			t.Errorf("Authenticate(%s) with its secret from before the upgrade: refused", cr.Username)
		}
	}
	if err := s.Admit(ctx, "huamu-2", "gate-3"); !errors.Is(err, ErrRetired) {
		t.Errorf("Admit(retired gate-3) = %v, want ErrRetired", err)
	}
	redeem := func(secret, site, kiosk string, seed byte) error {
		r, pub := request(secret, site, kiosk, kioskKey(seed))
		_, err := s.Redeem(ctx, r, pub)
		return err
	}
	if err := redeem(sec.Used, "huamu-1", "gate-1", 1); !errors.Is(err, ErrCodeUsed) {
		t.Errorf("Redeem of the spent code = %v, want ErrCodeUsed", err)
	}
	if err := redeem(sec.Gate4Expired, "huamu-2", "gate-4", 4); !errors.Is(err, ErrCodeExpired) {
		t.Errorf("Redeem of the expired code = %v, want ErrCodeExpired", err)
	}
	if err := redeem(sec.Gate5, "huamu-2", "gate-5", 5); err != nil {
		t.Errorf("Redeem of gate-5's code made before the upgrade = %v", err)
	}
	if err := redeem(sec.Gate1Again, "huamu-1", "gate-1", 11); err != nil {
		t.Errorf("Redeem of gate-1's re-enrollment code = %v", err)
	}
	ts, err := s.Transitions(ctx)
	if err != nil || len(ts) != 2 || ts[0].Site != "huamu-2" || !ts[0].Active || ts[1].Site != "huamu-3" || ts[1].Active {
		t.Errorf("Transitions = %+v, %v; want huamu-2 running, huamu-3 passed", ts, err)
	}
	if sites, err := s.TestSites(ctx); err != nil || !slices.Equal(sites, []string{"demo-1"}) {
		t.Errorf("TestSites = %v, %v; want demo-1", sites, err)
	}
	if g, _ := s.Generation(ctx); g != 14 {
		t.Errorf("Generation after two enrollments = %d, want 14", g)
	}
}

// An older pre-goose file, from before transitions, test sites and the
// generation, is completed by the adoption.
func TestAdoptsAFileFromBeforeTransitions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`CREATE TABLE kiosks (kiosk TEXT NOT NULL PRIMARY KEY, site TEXT NOT NULL, state TEXT NOT NULL,
		public_key TEXT NOT NULL DEFAULT '', secret_hash TEXT NOT NULL DEFAULT '', mosquitto TEXT NOT NULL DEFAULT '',
		created INTEGER NOT NULL, enrolled INTEGER NOT NULL DEFAULT 0, retired INTEGER NOT NULL DEFAULT 0);
	CREATE TABLE enroll_codes (code_hash TEXT NOT NULL PRIMARY KEY, kiosk TEXT NOT NULL REFERENCES kiosks (kiosk),
		site TEXT NOT NULL, expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
	INSERT INTO kiosks (kiosk, site, state, created) VALUES ('gate-1', 'huamu-1', 'pending', 1);`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := openAt(t, path, clock.NewFake(tStart))
	if k, err := s.Get(ctx, "gate-1"); err != nil || k.State != Pending {
		t.Fatalf("Get(gate-1) = %+v, %v; want the old pending kiosk", k, err)
	}
	if err := s.SetTransition(ctx, "huamu-1", tStart.Add(time.Hour)); err != nil {
		t.Fatalf("SetTransition on an adopted old file = %v", err)
	}
	if g, err := s.Generation(ctx); err != nil || g != 1 {
		t.Fatalf("Generation = %d, %v; want 1", g, err)
	}
}

// A store migrated by a newer hub is refused, naming both versions, and
// left as it was.
func TestRefusesAStoreFromANewerHub(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := e.dsn(t)
			s, err := Open(ctx, dsn, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.ExecContext(ctx, s.db.Engine.Bind(`INSERT INTO `+sqlstore.VersionTable+` (version_id, is_applied) VALUES (?, ?)`), 99, true); err != nil {
				t.Fatal(err)
			}
			s.Close()
			before := fileSum(t, dsn)
			_, err = Open(ctx, dsn, nil)
			if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "version 99") ||
				!strings.Contains(err.Error(), fmt.Sprintf("up to %d", latest(t))) {
				t.Fatalf("Open(a store at version 99) = %v; want ErrNewerSchema naming 99 and %d", err, latest(t))
			}
			if after := fileSum(t, dsn); after != before {
				t.Fatal("the refused file was changed")
			}
		})
	}
}

// fileSum is the SHA-256 of a SQLite file, "" for a PostgreSQL URL.
func fileSum(t *testing.T, dsn string) [32]byte {
	t.Helper()
	if sqlstore.IsPostgres(dsn) {
		return [32]byte{}
	}
	data, err := os.ReadFile(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// Hubs (or a hub and a command) opening one new store at the same moment
// migrate it once, and all open.
func TestOpeningTogetherMigratesOnce(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			dsn := e.dsn(t)
			const n = 4
			stores := make([]*Store, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn, nil) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("Open #%d of %d at once = %v", i+1, n, err)
				}
				defer stores[i].Close()
			}
			if got := versions(t, stores[0]); !slices.Equal(got, steps(latest(t))) {
				t.Fatalf("goose recorded %v, want each of %v once", got, steps(latest(t)))
			}
			if _, err := stores[n-1].Add(t.Context(), "huamu-1", "gate-1", kioskKey(1).Public().(ed25519.PublicKey)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// On PostgreSQL the registry's tables are in their own schema, so the
// hub's other stores can share the database.
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
	want := []string{"registry.enroll_codes", "registry.enrolled_kiosks", "registry.generation", "registry.goose_db_version",
		"registry.test_sites", "registry.transitions"}
	if !slices.Equal(tables, want) {
		t.Fatalf("tables = %v, want %v", tables, want)
	}
}

func TestOpenSaysWhatIsWrongWithTheDatabase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://gatepost@/gatepost?host=" + t.TempDir(), "open kiosk registry in PostgreSQL database gatepost at "},
		{"postgres://a:b@host:notaport/db", "the PostgreSQL URL"},
		{filepath.Join(t.TempDir(), "no-such-folder", FileName), "open kiosk registry"},
	} {
		s, err := Open(ctx, tc.dsn, nil)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) = nil error", tc.dsn)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) = %v; want it to say %q", tc.dsn, err, tc.want)
		}
	}
}

// copyFile copies a test file into a temporary folder and returns its
// path there.
func copyFile(t *testing.T, src string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRenamesKiosksOfAnOlderDatabase opens a register as the build
// before issue 15 left it, its table still kiosks at version 2, on both
// engines (a kiosks.db of its own on SQLite, the schema on PostgreSQL):
// the table is enrolled_kiosks after, with its rows.
func TestRenamesKiosksOfAnOlderDatabase(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			dsn := e.dsn(t)
			s := openAt(t, dsn, nil)
			if _, err := s.Add(t.Context(), "huamu-1", "gate-1", kioskKey(1).Public().(ed25519.PublicKey)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.NewCode(t.Context(), "huamu-1", "gate-2", time.Hour); err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{`ALTER TABLE enrolled_kiosks RENAME TO kiosks`, `DELETE FROM goose_db_version WHERE version_id = 3`} {
				if _, err := s.db.ExecContext(t.Context(), q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			s.Close()
			s = openAt(t, dsn, nil)
			ks, err := s.List(t.Context())
			if err != nil || len(ks) != 2 {
				t.Fatalf("List after the upgrade = %+v, %v; want gate-1 and gate-2", ks, err)
			}
			if v, err := sqlstore.Version(t.Context(), s.db, spec); err != nil || v != 3 {
				t.Errorf("version = %d, %v; want 3", v, err)
			}
			if old, err := sqlstore.HasTable(t.Context(), s.db, s.db.Engine, "kiosks"); err != nil || old {
				t.Errorf("a table kiosks left: %v, %v", old, err)
			}
		})
	}
}
