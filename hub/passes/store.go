package passes

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/storeversion"
)

// Files inside the hub's data folder. DBFile is the store's own file as
// hubs before issue 15 kept it: its tables live in hub.db now
// (OpenShared), and hub/datadir merges an old passes.db into it.
const (
	DBFile  = "passes.db"
	KeysDir = "keys" // one <id>.key file per private key, mode 0600
)

// VersionTable is goose's record of the store's migrations in hub.db,
// which it shares with the hub's other stores.
const VersionTable = "goose_passes"

// shared is the store in hub.db.
var shared = spec.Shared(VersionTable)

// Errors callers branch on.
var (
	ErrNoKey      = errors.New("no signing key: run `hub keys init` first")
	ErrKeyExists  = errors.New("a signing key exists already: use `hub keys rotate` to replace it")
	ErrNotFound   = errors.New("no such pass")
	ErrBadRequest = errors.New("bad pass request")
)

// Store holds the hub's keys and passes: the tables on SQLite or
// PostgreSQL (one API, one set of statements: hub/sqlstore), the private
// signing keys in files under the data folder's keys/. Safe for
// concurrent use, and several Stores (processes, replicas) may share one
// database: each change is one transaction, and those that read before
// they write lock what they read first (bump, holdKeySet).
type Store struct {
	db    *sqlstore.DB
	dir   string
	clock clock.Clock
	// draw makes a pass id's random part; tests set one that repeats.
	draw func(n int) string
}

// Open opens (creating if needed) the pass store in the hub's data
// folder: passes.db there, and the private keys in its keys/. clk is the
// clock for issuing, versions and expiry; nil is the wall clock.
func Open(dataDir string, clk clock.Clock) (*Store, error) {
	return OpenDatabase(context.Background(), filepath.Join(dataDir, DBFile), dataDir, clk)
}

// OpenDatabase opens the pass store whose tables dsn names, a postgres://
// or postgresql:// URL or else a SQLite file's path, with the private
// keys in dataDir's keys/ folder (made if missing), and brings its tables
// to this build's version. A SQLite file made before the store used goose
// is adopted; a store from a newer hub is refused, unchanged. On
// PostgreSQL the tables are in the schema "passes"; every hub that issues
// passes from it needs the same keys (docs/scale.md).
func OpenDatabase(ctx context.Context, dsn, dataDir string, clk clock.Clock) (*Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("open passes: %w", err)
	}
	var db *sqlstore.DB
	var err error
	if sqlstore.IsPostgres(dsn) {
		db, err = sqlstore.OpenPostgres(ctx, dsn, spec, 4)
	} else {
		db, err = openFile(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	return withKeys(db, dataDir, clk)
}

// OpenShared opens (creating if needed) the pass store's tables in the
// SQLite file at path it shares with the hub's other stores (hub.db),
// their migrations recorded in goose_passes, with the private keys in
// dataDir's keys/ folder (made if missing), and brings them up to this
// build's version; a newer build's are refused, unchanged. The file's
// PRAGMA user_version is the records' (hub/records), not the store's.
func OpenShared(ctx context.Context, path, dataDir string, clk clock.Clock) (*Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("open passes: %w", err)
	}
	db, err := sqlstore.OpenSQLite(ctx, path, shared)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // as in its own file
	return withKeys(db, dataDir, clk)
}

// withKeys is the store on db with its private keys in dataDir's keys/.
func withKeys(db *sqlstore.DB, dataDir string, clk clock.Clock) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dataDir, KeysDir), 0o700); err != nil {
		db.Close()
		return nil, fmt.Errorf("open passes: %w", err)
	}
	return &Store{db: db, dir: dataDir, clock: clock.Or(clk), draw: randomID}, nil
}

// openFile opens the SQLite file at path. Its PRAGMA user_version, where
// the store kept its version before goose, is checked first, so that a
// file a newer hub wrote is refused before anything writes to it, and
// set to goose's version after migrating, so that a hub from before
// goose refuses a file a later step changed.
func openFile(ctx context.Context, path string) (*sqlstore.DB, error) {
	v, err := storeversion.ReadFile(ctx, path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open passes %s: %w", path, err)
	}
	if err := storeversion.Check(DBFile, v, SchemaVersion(), "hub"); err != nil {
		return nil, fmt.Errorf("open passes %s: %w", path, err)
	}
	db, err := sqlstore.OpenSQLite(ctx, path, spec)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // every statement through one connection, as before
	if err := markVersion(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open passes %s: %w", path, err)
	}
	return db, nil
}

// now is the store's clock's time.
func (s *Store) now() time.Time { return s.clock.Now() }

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// bump increases a payload's version inside tx. On PostgreSQL it also
// locks the payload's row until tx ends: a change that bumps first runs
// after every other change of that payload has committed, and reads
// what they wrote, as on SQLite, where a transaction holds the write
// lock from its start.
func bump(ctx context.Context, tx sqlstore.Tx, name string) error {
	_, err := tx.Exec(ctx, `INSERT INTO versions (name, version) VALUES (?, 1)
		ON CONFLICT (name) DO UPDATE SET version = versions.version + 1`, name)
	return err
}

func (s *Store) version(ctx context.Context, name string) (uint64, error) {
	var v uint64
	err := s.db.QueryRow(ctx, `SELECT version FROM versions WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// randomID returns n characters of Crockford's Base32 (no I, L, O, U):
// upper case and digits, so it sits in a QR code's alphanumeric mode and
// reads aloud without confusion.
func randomID(n int) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func unix(t time.Time) int64 { return t.Unix() }

func fromUnix(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.Unix(v.Int64, 0).UTC()
	return &t
}
