package registry

import (
	"context"
	"fmt"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/clock"
)

// FileName is the registry's own database in the hub's data folder, as
// hubs before issue 15 kept it: the register lives in hub.db now
// (OpenShared), and hub/datadir merges an old kiosks.db into it.
const FileName = "kiosks.db"

// VersionTable is goose's record of the registry's migrations in hub.db,
// which it shares with the hub's other stores.
const VersionTable = "goose_registry"

// shared is the registry in hub.db.
var shared = spec.Shared(VersionTable)

// Schema is the PostgreSQL schema that holds the registry's tables (and
// its migrations' record), so that the hub's other stores can share one
// database without sharing table names.
const Schema = "registry"

// Store is the kiosk registry on SQLite or PostgreSQL: one API, one set of
// statements, two engines (hub/sqlstore).
type Store struct {
	db    *sqlstore.DB
	clock clock.Clock
}

// Open opens the registry that dsn names: a postgres:// or postgresql://
// URL (OpenPostgres), or else the path of a SQLite file (OpenFile).
func Open(ctx context.Context, dsn string, c clock.Clock) (*Store, error) {
	if sqlstore.IsPostgres(dsn) {
		return OpenPostgres(ctx, dsn, c)
	}
	return OpenFile(ctx, dsn, c)
}

// OpenFile opens (creating if needed) the registry in its own SQLite file
// (kiosks.db) and brings its tables up to this build's version: a file
// made before the registry used goose is adopted (see spec), a file from
// a newer build is refused, unchanged, and the table kiosks of a file
// made before issue 15 is renamed enrolled_kiosks.
func OpenFile(ctx context.Context, path string, c clock.Clock) (*Store, error) {
	db, err := sqlstore.OpenSQLite(ctx, path, spec)
	if err != nil {
		return nil, err
	}
	if err := renameKiosks(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s %s: %w", spec.Name, path, err)
	}
	return &Store{db: db, clock: clock.Or(c)}, nil
}

// OpenShared opens (creating if needed) the registry's tables in the
// SQLite file it shares with the hub's other stores (hub.db), their
// migrations recorded in goose_registry, and brings them up to this
// build's version; a newer build's are refused, unchanged.
func OpenShared(ctx context.Context, path string, c clock.Clock) (*Store, error) {
	db, err := sqlstore.OpenSQLite(ctx, path, shared)
	if err != nil {
		return nil, err
	}
	return &Store{db: db, clock: clock.Or(c)}, nil
}

// renameKiosks renames the table kiosks of a kiosks.db that 00001_base.sql
// made before it named the table enrolled_kiosks (migrations/sqlite/
// 00003_enrolled_kiosks.sql says why). SQLite's rename carries the
// foreign key of enroll_codes along.
func renameKiosks(ctx context.Context, db *sqlstore.DB) error {
	old, err := sqlstore.HasTable(ctx, db, sqlstore.SQLite, "kiosks")
	if err != nil || !old {
		return err
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE kiosks RENAME TO enrolled_kiosks`); err != nil {
		return fmt.Errorf("rename its table kiosks to enrolled_kiosks: %w", err)
	}
	return nil
}

// OpenPostgres opens the registry in the PostgreSQL database at pgURL (the
// tables in its schema "registry", made if missing) and brings it up to
// this build's version. Hubs starting together migrate once: the first
// takes an advisory lock, the others wait for it and find nothing left
// to do. Changes run one at a time: each first locks the generation's
// row, which every change bumps anyway, so no change reads what another
// is changing and no two deadlock.
func OpenPostgres(ctx context.Context, pgURL string, c clock.Clock) (*Store, error) {
	db, err := sqlstore.OpenPostgres(ctx, pgURL, spec, 8)
	if err != nil {
		return nil, err
	}
	db.Serialize = `SELECT n FROM generation WHERE id = 1 FOR UPDATE`
	return &Store{db: db, clock: clock.Or(c)}, nil
}

// Close closes the store's database.
func (s *Store) Close() error { return s.db.Close() }
