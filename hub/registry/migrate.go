package registry

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// The registry's tables are made and changed by numbered SQL files, one
// folder per engine (migrations/sqlite, migrations/postgres) with the same
// numbers meaning the same change, applied by goose's Provider with the
// store's own *sql.DB. Goose records what it applied in the table
// goose_db_version beside the registry's.

//go:embed migrations
var migrations embed.FS

// versionTable is goose's record of the applied migrations.
const versionTable = "goose_db_version"

// lockID is the registry's PostgreSQL advisory lock, held while it
// migrates: "gate" and the store's own number (the registry is 1), so the
// hub's stores each migrate under their own lock.
const lockID int64 = 0x67617465_00000001

// ErrNewerSchema says that the database was brought to a version by a
// newer hub than this one: this build does not know its tables, so it
// does not touch them.
var ErrNewerSchema = errors.New("the kiosk registry was upgraded by a newer hub")

// migrateFile brings a SQLite file to this build's version. The data
// folder is locked meanwhile (flock), so that a command and `hub serve`
// opening a new or older file at one moment migrate it once.
func migrateFile(ctx context.Context, db *sql.DB, path string) error {
	unlock, err := lockDir(ctx, filepath.Dir(path))
	if err != nil {
		return err
	}
	defer unlock()
	if err := adopt(ctx, db); err != nil {
		return fmt.Errorf("adopt a kiosks.db made before versioned migrations: %w", err)
	}
	return migrate(ctx, db, sqliteEngine, goose.DialectSQLite3, nil)
}

// migratePostgres makes the registry's schema and brings it to this
// build's version, under the registry's advisory lock: of hubs starting
// together, one migrates and the others wait, then find nothing to do.
func migratePostgres(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// CREATE SCHEMA IF NOT EXISTS is not safe from a concurrent one: the
	// lock, held to the commit, makes it so.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+Schema); err != nil {
		return fmt.Errorf("make schema %s: %w", Schema, err)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return err
	}
	return migrate(ctx, db, postgresEngine, goose.DialectPostgres, locker)
}

// migrate applies the engine's migrations that db lacks, after refusing a
// database that a newer build has migrated further than this one knows.
func migrate(ctx context.Context, db *sql.DB, e *engine, dialect goose.Dialect, locker lock.SessionLocker) error {
	fsys, err := fs.Sub(migrations, "migrations/"+e.name)
	if err != nil {
		return err
	}
	opts := []goose.ProviderOption{goose.WithLogger(goose.NopLogger()), goose.WithDisableGlobalRegistry(true)}
	if locker != nil {
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return err
	}
	sources := p.ListSources()
	known := sources[len(sources)-1].Version
	if err := refuseNewer(ctx, db, e, known); err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate to version %d: %w", known, err)
	}
	// A newer hub may have migrated between the check and the lock.
	return refuseNewer(ctx, db, e, known)
}

// refuseNewer returns ErrNewerSchema, naming both versions, when db's
// version is above known.
func refuseNewer(ctx context.Context, db *sql.DB, e *engine, known int64) error {
	have, err := version(ctx, db, e)
	if err != nil {
		return err
	}
	if have > known {
		return fmt.Errorf("%w: its tables are at version %d, this hub knows versions up to %d; "+
			"run the newer hub (or a newer build of this one), or restore a backup made before the upgrade", ErrNewerSchema, have, known)
	}
	return nil
}

// version is the highest migration db records, 0 for none.
func version(ctx context.Context, db *sql.DB, e *engine) (int64, error) {
	if ok, err := hasTable(ctx, db, e, versionTable); err != nil || !ok {
		return 0, err
	}
	var v int64
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM `+versionTable).Scan(&v); err != nil {
		return 0, fmt.Errorf("read the registry's version: %w", err)
	}
	return v, nil
}

// queryer is a database or a transaction.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// hasTable reports whether the store's schema has the table.
func hasTable(ctx context.Context, q queryer, e *engine, name string) (bool, error) {
	query := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if e == postgresEngine {
		query = `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?`
	}
	var n int
	if err := q.QueryRowContext(ctx, e.bind(query), name).Scan(&n); err != nil {
		return false, fmt.Errorf("look for table %s: %w", name, err)
	}
	return n > 0, nil
}

// preGoose is what the registry ran at every open before it used goose:
// idempotent, it brought any earlier file to its last shape.
const preGoose = `
CREATE TABLE IF NOT EXISTS kiosks (
	kiosk        TEXT    NOT NULL PRIMARY KEY,
	site         TEXT    NOT NULL,
	state        TEXT    NOT NULL,
	public_key   TEXT    NOT NULL DEFAULT '', -- protocol.PublicKeyText
	secret_hash  TEXT    NOT NULL DEFAULT '', -- sha256 of the broker secret, hex
	mosquitto    TEXT    NOT NULL DEFAULT '', -- the same secret in Mosquitto's $7$ format
	created      INTEGER NOT NULL,            -- unix ns
	enrolled     INTEGER NOT NULL DEFAULT 0,
	retired      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS enroll_codes (
	code_hash TEXT    NOT NULL PRIMARY KEY, -- sha256 of the secret, hex: the secret itself is never stored
	kiosk     TEXT    NOT NULL REFERENCES kiosks (kiosk),
	site      TEXT    NOT NULL,
	expires   INTEGER NOT NULL,
	used      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS transitions (
	site     TEXT    NOT NULL PRIMARY KEY,
	deadline INTEGER NOT NULL -- unix ns: the site's unenrolled kiosks are refused from then on
);
CREATE TABLE IF NOT EXISTS test_sites (
	site TEXT NOT NULL PRIMARY KEY -- entries from simulated devices are taken from these sites only
);
CREATE TABLE IF NOT EXISTS generation (
	id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	n  INTEGER NOT NULL -- bumped in the transaction of every change
);
INSERT OR IGNORE INTO generation (id, n) VALUES (1, 0);`

// adopt takes on a kiosks.db made before the registry used goose: one
// with the register's tables and no goose_db_version. Its tables are
// version 1's (00001_base.sql is that schema), or an earlier pre-goose
// shape that lacks some of them; so adopt runs the pre-goose open step
// once more, which completes an earlier shape and changes nothing in a
// last one, and records versions 0 and 1 as applied in goose's own table,
// all in one transaction. Goose then applies 2 onwards: the base step
// never runs on such a file (its plain CREATE TABLE would fail if it did).
// A new file, and one goose has migrated, are left to goose.
func adopt(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil) // the write lock: a second process waits, then finds it adopted
	if err != nil {
		return err
	}
	defer tx.Rollback()
	versioned, err := hasTable(ctx, tx, sqliteEngine, versionTable)
	if err != nil || versioned {
		return err
	}
	if old, err := hasTable(ctx, tx, sqliteEngine, "kiosks"); err != nil || !old {
		return err
	}
	if _, err := tx.ExecContext(ctx, preGoose); err != nil {
		return err
	}
	store, err := database.NewStore(goose.DialectSQLite3, versionTable)
	if err != nil {
		return err
	}
	if err := store.CreateVersionTable(ctx, tx); err != nil {
		return err
	}
	for _, v := range []int64{0, 1} {
		if err := store.Insert(ctx, tx, database.InsertRequest{Version: v}); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// lockDir takes an exclusive flock on the folder dir, waiting for it
// until ctx ends, and returns its release. The folder rather than the
// database: a second descriptor on a SQLite file, once closed, would drop
// SQLite's own POSIX locks on it.
func lockDir(ctx context.Context, dir string) (func(), error) {
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
