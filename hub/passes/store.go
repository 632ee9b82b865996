package passes

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/storeversion"
)

// Files inside the hub's data folder.
const (
	DBFile  = "passes.db"
	KeysDir = "keys" // one <id>.key file per private key, mode 0600
)

// Errors callers branch on.
var (
	ErrNoKey      = errors.New("no signing key: run `hub keys init` first")
	ErrKeyExists  = errors.New("a signing key exists already: use `hub keys rotate` to replace it")
	ErrNotFound   = errors.New("no such pass")
	ErrBadRequest = errors.New("bad pass request")
)

const schema = `
CREATE TABLE IF NOT EXISTS keys (
	id        TEXT PRIMARY KEY,
	public    BLOB NOT NULL,
	created   INTEGER NOT NULL,
	retired   INTEGER,
	not_after INTEGER,
	withdrawn INTEGER -- the private key leaked: out of the key set for good
);
CREATE TABLE IF NOT EXISTS passes (
	id           TEXT PRIMARY KEY,
	key          TEXT NOT NULL REFERENCES keys(id),
	kind         TEXT NOT NULL,
	site         TEXT NOT NULL,
	unit         TEXT NOT NULL,
	name         TEXT NOT NULL,
	valid_from   INTEGER NOT NULL,
	valid_until  INTEGER NOT NULL,
	token        TEXT NOT NULL,
	issued       INTEGER NOT NULL,
	status       TEXT NOT NULL DEFAULT '',
	status_until INTEGER,
	reason       TEXT NOT NULL DEFAULT '',
	changed      INTEGER
);
CREATE INDEX IF NOT EXISTS passes_site ON passes (site, unit);
CREATE TABLE IF NOT EXISTS versions (
	name    TEXT PRIMARY KEY,
	version INTEGER NOT NULL
);
`

// Store holds the hub's keys and passes. Safe for concurrent use: every
// statement goes through one connection.
type Store struct {
	db    *sql.DB
	dir   string
	clock clock.Clock
}

// Open opens (creating if needed) the pass store in the hub's data folder.
// clk is the clock for issuing, versions and expiry; nil is the wall clock.
func Open(dataDir string, clk clock.Clock) (*Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("open passes: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_txlock", "immediate")
	path := filepath.Join(dataDir, DBFile)
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open passes %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	// The version first: the schema below must not touch a file a newer
	// hub wrote.
	ctx := context.Background()
	version, err := storeversion.CheckDB(ctx, db, DBFile, SchemaVersion(), "hub")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open passes %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Join(dataDir, KeysDir), 0o700); err != nil {
		db.Close()
		return nil, fmt.Errorf("open passes: %w", err)
	}
	// The status list starts at version 1 (empty); every change bumps it.
	_, err = db.Exec(schema + `INSERT OR IGNORE INTO versions (name, version) VALUES ('status_list', 1);`)
	if err == nil {
		err = migrate(ctx, db, version)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open passes %s: %w", path, err)
	}
	return &Store{db: db, dir: dataDir, clock: clock.Or(clk)}, nil
}

// now is the store's clock's time.
func (s *Store) now() time.Time { return s.clock.Now() }

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// bump increases a payload's version inside tx and returns it.
func bump(ctx context.Context, tx *sql.Tx, name string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO versions (name, version) VALUES (?, 1)
		ON CONFLICT (name) DO UPDATE SET version = version + 1`, name)
	return err
}

func (s *Store) version(ctx context.Context, name string) (uint64, error) {
	var v uint64
	err := s.db.QueryRowContext(ctx, `SELECT version FROM versions WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// inTx runs f in a transaction.
func (s *Store) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
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
