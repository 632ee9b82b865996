package operators

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/storeversion"
)

// Store is the console's state in one SQLite file or in the schema
// "operators" of a PostgreSQL database: one API, one set of statements,
// two engines (hub/sqlstore). Safe for concurrent use, and, on
// PostgreSQL, by several hubs at once: a session one hub starts is found
// by another.
type Store struct {
	db    *sqlstore.DB
	clock clock.Clock
}

// FileName is the store's own file in the hub's data folder, as hubs
// before issue 15 kept it: the store lives in hub.db now (OpenShared),
// and hub/datadir merges an old console.db into it.
const FileName = "console.db"

// VersionTable is goose's record of the store's migrations in hub.db,
// which it shares with the hub's other stores.
const VersionTable = "goose_operators"

// shared is the store in hub.db.
var shared = spec.Shared(VersionTable)

// Schema is the PostgreSQL schema that holds the store's tables.
const Schema = "operators"

// Open opens the store dsn names: a postgres:// or postgresql:// URL, or
// else the path of a SQLite file, made if missing. c may be nil for the
// wall clock; it stamps sessions, audit lines, alerts and tokens.
func Open(dsn string, c clock.Clock) (*Store, error) {
	return OpenContext(context.Background(), dsn, c)
}

// OpenContext is Open, giving up when ctx ends (a hub starting while
// another migrates the same PostgreSQL database waits for it).
func OpenContext(ctx context.Context, dsn string, c clock.Clock) (*Store, error) {
	if dsn == "" {
		return nil, errors.New("open console store: empty path")
	}
	var db *sqlstore.DB
	var err error
	if sqlstore.IsPostgres(dsn) {
		db, err = sqlstore.OpenPostgres(ctx, dsn, spec, 8)
	} else {
		db, err = openFile(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	return &Store{db: db, clock: clock.Or(c)}, nil
}

// OpenShared opens (creating if needed) the store's tables in the SQLite
// file it shares with the hub's other stores (hub.db), their migrations
// recorded in goose_operators, and brings them up to this build's
// version; a newer build's are refused, unchanged. The file's PRAGMA
// user_version is the records' (hub/records), not the store's.
func OpenShared(ctx context.Context, path string, c clock.Clock) (*Store, error) {
	db, err := sqlstore.OpenSQLite(ctx, path, shared)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // as in its own file: openFile says why
	return &Store{db: db, clock: clock.Or(c)}, nil
}

// openFile opens the SQLite file at path: refused, untouched, when its
// PRAGMA user_version says a newer hub wrote it; adopted when made before
// goose; migrated; and its user_version set to the goose version, so that
// a hub from before goose, which reads only that, refuses a file a newer
// hub migrated rather than re-running its own steps on it.
func openFile(ctx context.Context, path string) (*sqlstore.DB, error) {
	v, err := storeversion.ReadFile(ctx, path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open console store %s: %w", path, err)
	}
	if err := storeversion.Check(FileName, v, SchemaVersion(), "hub"); err != nil {
		return nil, fmt.Errorf("open console store %s: %w", path, err)
	}
	db, err := sqlstore.OpenSQLite(ctx, path, spec)
	if err != nil {
		return nil, err
	}
	// One connection: the console's writes are few and small, and one
	// writer is what SQLite allows anyway.
	db.SetMaxOpenConns(1)
	have, err := sqlstore.Version(ctx, db, spec)
	if err == nil && have != int64(v) {
		_, err = db.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, have))
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open console store %s: %w", path, err)
	}
	return db, nil
}

// Close closes the store's database.
func (s *Store) Close() error { return s.db.Close() }

// Setting returns a stored setting, or def when there is none.
func (s *Store) Setting(ctx context.Context, key, def string) (string, error) {
	var v string
	err := s.db.QueryRow(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return def, nil
	}
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	return v, nil
}

// ClaimSetting stores value for key unless the key holds a value
// already, and returns the value it holds then: the first of several
// hubs to claim a key sets it, and the others learn what it set.
func (s *Store) ClaimSetting(ctx context.Context, key, value string) (string, error) {
	if _, err := s.db.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
		return "", fmt.Errorf("write setting %s: %w", key, err)
	}
	return s.Setting(ctx, key, value)
}

// SetSetting stores a setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.db.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("write setting %s: %w", key, err)
	}
	return nil
}
