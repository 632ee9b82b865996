package registry

import (
	"context"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/clock"
)

// FileName is the registry's own database in the hub's data folder.
const FileName = "kiosks.db"

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
// and brings its tables up to this build's version: a file made before
// the registry used goose is adopted (see spec), and a file from a newer
// build is refused, unchanged.
func OpenFile(ctx context.Context, path string, c clock.Clock) (*Store, error) {
	db, err := sqlstore.OpenSQLite(ctx, path, spec)
	if err != nil {
		return nil, err
	}
	return &Store{db: db, clock: clock.Or(c)}, nil
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
