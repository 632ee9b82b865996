package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// Spec is what a store tells this package of itself.
type Spec struct {
	Name   string // in messages: "kiosk registry"
	Schema string // the PostgreSQL schema of its tables
	// LockID is its PostgreSQL advisory lock, held while it migrates:
	// "gate" and the store's own number, so stores migrate under their own
	// locks.
	LockID int64
	// Migrations holds the folder migrations, with the folders sqlite
	// and postgres of numbered SQL files (NNNNN_name.sql) in it, the same
	// numbers meaning the same step: a store's //go:embed migrations.
	Migrations fs.FS
	// PreGoose, for a SQLite file with no goose version table, reports the
	// goose version the file's tables stand for (0: a new file, nothing to
	// adopt). Nil: the store was born with goose.
	PreGoose func(ctx context.Context, q Queryer) (int64, error)
	// Adopt brings such a file to that version's exact shape, in the
	// adopting transaction (the write lock held): it reruns what the store
	// ran at every open before it used goose. Adopting then records the
	// versions up to PreGoose's as applied, in the same transaction.
	Adopt func(ctx context.Context, tx *sql.Tx) error
	// Table is goose's record of the store's applied migrations in a
	// SQLite file it shares with the hub's other stores (hub.db):
	// goose_operators, say. Empty is VersionTable, what a store alone in
	// its file uses, and what every store uses on PostgreSQL, where each
	// has its own schema (so that existing databases open unchanged).
	Table string
	// Pragmas are SQLite pragmas, "name(value)", for the store's
	// connection once it is migrated (not while: a migration's statement
	// journal can be as large as a table, and temp_store(memory) would
	// hold it in memory).
	Pragmas []string
}

// Shared is the spec of the store in the SQLite file it shares with the
// hub's other stores, its migrations recorded in table: nothing there
// was made before goose, so there is nothing to adopt (another store's
// table of the same name must not be taken for an old one of this
// store's).
//
// Its connection checkpoints the file's WAL at SharedCheckpoint, as the
// records store's writer does.
func (s Spec) Shared(table string) Spec {
	s.Table = table
	s.PreGoose, s.Adopt = nil, nil
	s.Pragmas = append(slices.Clone(s.Pragmas), SharedCheckpoint)
	return s
}

// SharedCheckpoint is the pragma by which every connection that writes
// hub.db checkpoints its WAL once it holds 10,000 pages (SQLite's
// default is 1,000). SQLite runs the checkpoint in the commit of
// whichever connection finds the WAL past its own limit, so one store
// left at 1,000 checkpoints for all: the alert follower's commits did,
// a checkpoint every second or so at rush hour and 4.6% of the hub's
// CPU, while the records store's writer waited for 10,000.
const SharedCheckpoint = "wal_autocheckpoint(10000)"

// versionTable is the spec's goose table on engine e.
func (s Spec) versionTable(e *Engine) string {
	if e == SQLite && s.Table != "" {
		return s.Table
	}
	return VersionTable
}

// dirLocked marks a context whose caller holds LockDir on a folder.
type dirLocked struct{}

// WithDirLocked tells the opens under ctx that the caller holds
// LockDir(dir) already (hub/datadir merging old files, which opens
// stores meanwhile): a second flock on the folder from the same process
// would wait for itself.
func WithDirLocked(ctx context.Context, dir string) context.Context {
	return context.WithValue(ctx, dirLocked{}, filepath.Clean(dir))
}

// VersionTable is goose's record of the applied migrations, beside the
// store's tables.
const VersionTable = "goose_db_version"

// ErrNewerSchema says that the database was brought to a version by a
// newer hub than this one: this build does not know its tables, so it
// does not touch them.
var ErrNewerSchema = errors.New("upgraded by a newer hub")

// Queryer is a database or a transaction.
type Queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// migrateFile brings a SQLite file to this build's version. The data
// folder is locked meanwhile (flock), so that a command and `hub serve`
// opening a new or older file at one moment migrate it once.
func migrateFile(ctx context.Context, d *DB, spec Spec) error {
	if dir := filepath.Dir(d.Where); ctx.Value(dirLocked{}) != filepath.Clean(dir) {
		unlock, err := LockDir(ctx, dir)
		if err != nil {
			return err
		}
		defer unlock()
	}
	if spec.PreGoose != nil {
		if err := adopt(ctx, d, spec); err != nil {
			return fmt.Errorf("adopt a file made before versioned migrations: %w", err)
		}
	}
	return migrate(ctx, d, spec, goose.DialectSQLite3, nil)
}

// migratePostgres makes the store's schema and brings it to this build's
// version, under the store's advisory lock: of hubs starting together,
// one migrates and the others wait, then find nothing to do.
func migratePostgres(ctx context.Context, d *DB, spec Spec) error {
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// CREATE SCHEMA IF NOT EXISTS is not safe from a concurrent one: the
	// lock, held to the commit, makes it so.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, spec.LockID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+spec.Schema); err != nil {
		return fmt.Errorf("make schema %s: %w", spec.Schema, err)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(spec.LockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return err
	}
	return migrate(ctx, d, spec, goose.DialectPostgres, locker)
}

// provider is goose's Provider of the engine's migrations on d.
func provider(d *DB, spec Spec, dialect goose.Dialect, locker lock.SessionLocker) (*goose.Provider, error) {
	fsys, err := fs.Sub(spec.Migrations, "migrations/"+d.Engine.Name)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithLogger(goose.NopLogger()), goose.WithDisableGlobalRegistry(true)}
	if locker != nil {
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	if table := spec.versionTable(d.Engine); table != VersionTable {
		store, err := database.NewStore(dialect, table)
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithStore(store))
		dialect = goose.DialectCustom
	}
	p, err := goose.NewProvider(dialect, d.DB, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("the %s's migrations: %w", spec.Name, err)
	}
	return p, nil
}

// known is the last version p's migrations reach.
func known(p *goose.Provider) int64 {
	sources := p.ListSources()
	return sources[len(sources)-1].Version
}

// migrate applies the engine's migrations that d lacks, after refusing a
// database that a newer build has migrated further than this one knows.
func migrate(ctx context.Context, d *DB, spec Spec, dialect goose.Dialect, locker lock.SessionLocker) error {
	p, err := provider(d, spec, dialect, locker)
	if err != nil {
		return err
	}
	last := known(p)
	if err := refuseNewer(ctx, d, spec, last); err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate to version %d: %w", last, err)
	}
	// A newer hub may have migrated between the check and the lock.
	return refuseNewer(ctx, d, spec, last)
}

// refuseNewer returns ErrNewerSchema, naming both versions, when d's
// version is above last.
func refuseNewer(ctx context.Context, d *DB, spec Spec, last int64) error {
	have, err := Version(ctx, d, spec)
	if err != nil {
		return err
	}
	if have > last {
		return fmt.Errorf("the %s was %w: its tables are at version %d, this hub knows versions up to %d; "+
			"run the newer hub (or a newer build of this one), or restore a backup made before the upgrade",
			spec.Name, ErrNewerSchema, have, last)
	}
	return nil
}

// Version is the highest migration of the store that d records (in
// spec's version table), 0 for none.
func Version(ctx context.Context, d *DB, spec Spec) (int64, error) {
	table := spec.versionTable(d.Engine)
	if ok, err := HasTable(ctx, d, d.Engine, table); err != nil || !ok {
		return 0, err
	}
	var v int64
	if err := d.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM `+table).Scan(&v); err != nil {
		return 0, fmt.Errorf("read the version: %w", err)
	}
	return v, nil
}

// HasTable reports whether the store's schema has the table.
func HasTable(ctx context.Context, q Queryer, e *Engine, name string) (bool, error) {
	query := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if e == Postgres {
		query = `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?`
	}
	var n int
	if err := q.QueryRowContext(ctx, e.Bind(query), name).Scan(&n); err != nil {
		return false, fmt.Errorf("look for table %s: %w", name, err)
	}
	return n > 0, nil
}

// adopt takes on a file made before the store used goose: one with the
// store's tables and no goose version table. In one transaction it runs
// spec.Adopt, which brings the file to the exact shape of the version
// spec.PreGoose names, and records versions 0 to that one as applied in
// goose's own table. Goose then applies the steps after it: the steps
// up to it never run on such a file. A new file, and one goose has
// migrated, are left to goose.
func adopt(ctx context.Context, d *DB, spec Spec) error {
	tx, err := d.BeginTx(ctx, nil) // the write lock: a second process waits, then finds it adopted
	if err != nil {
		return err
	}
	defer tx.Rollback()
	versioned, err := HasTable(ctx, tx, SQLite, spec.versionTable(SQLite))
	if err != nil || versioned {
		return err
	}
	at, err := spec.PreGoose(ctx, tx)
	if err != nil || at == 0 {
		return err
	}
	if spec.Adopt != nil {
		if err := spec.Adopt(ctx, tx); err != nil {
			return err
		}
	}
	store, err := database.NewStore(goose.DialectSQLite3, spec.versionTable(SQLite))
	if err != nil {
		return err
	}
	if err := store.CreateVersionTable(ctx, tx); err != nil {
		return err
	}
	for v := int64(0); v <= at; v++ {
		if err := store.Insert(ctx, tx, database.InsertRequest{Version: v}); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// LockDir takes an exclusive flock on the folder dir, waiting for it
// until ctx ends, and returns its release. The folder rather than the
// database: a second descriptor on a SQLite file, once closed, would drop
// SQLite's own POSIX locks on it.
func LockDir(ctx context.Context, dir string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("lock the folder for migrations: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock the folder %s for migrations: %w", dir, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for another process migrating %s: %w", dir, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// FileVersions reads the version of the store in the SQLite file at path
// without making or changing anything (the doctor's check before the hub
// opens it), and the last version this build knows. A file made before
// the store used goose is at the version adopting it would record. A
// missing file is an error wrapping fs.ErrNotExist.
func FileVersions(ctx context.Context, path string, spec Spec) (have, last int64, err error) {
	if _, err := os.Stat(path); err != nil {
		return 0, 0, err
	}
	db, err := sql.Open("sqlite", ReadOnlyURL(path))
	if err != nil {
		return 0, 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	d := &DB{DB: db, Engine: SQLite, Where: path}
	p, err := provider(d, spec, goose.DialectSQLite3, nil)
	if err != nil {
		return 0, 0, err
	}
	last = known(p)
	if have, err = Version(ctx, d, spec); err != nil || have > 0 || spec.PreGoose == nil {
		return have, last, err
	}
	have, err = spec.PreGoose(ctx, d)
	return have, last, err
}

// DatabaseVersions reads the version of the store in the PostgreSQL
// database at pgURL without making or changing anything (the doctor's
// check with --database), and the last version this build knows. A store
// whose schema or version table is not there yet is an error wrapping
// fs.ErrNotExist: it is made when first needed.
func DatabaseVersions(ctx context.Context, pgURL string, spec Spec) (have, last int64, err error) {
	cfg, err := pgx.ParseConfig(pgURL)
	if err != nil {
		return 0, 0, fmt.Errorf("the PostgreSQL URL: %w", err)
	}
	cfg.RuntimeParams["search_path"] = spec.Schema
	// Read-only once connected, not as a startup parameter: a URL with
	// target_session_attrs=read-write (a primary and its standbys,
	// docs/scale.md) looks for a server whose session is not read-only,
	// and would find none.
	db := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, "SET default_transaction_read_only = on")
		return err
	}))
	defer db.Close()
	db.SetMaxOpenConns(1)
	d := &DB{DB: db, Engine: Postgres, Where: cfg.Database}
	p, err := provider(d, spec, goose.DialectPostgres, nil)
	if err != nil {
		return 0, 0, err
	}
	last = known(p)
	ok, err := HasTable(ctx, d, Postgres, VersionTable)
	if err != nil {
		return 0, last, err
	}
	if !ok {
		return 0, last, fmt.Errorf("the %s's tables (schema %s): %w", spec.Name, spec.Schema, fs.ErrNotExist)
	}
	have, err = Version(ctx, d, spec)
	return have, last, err
}
