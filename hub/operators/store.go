package operators

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/storeversion"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is the console's state in one SQLite file. Safe for concurrent use.
type Store struct {
	db    *sql.DB
	clock clock.Clock
}

// FileName is the store's file inside the hub's data directory.
const FileName = "console.db"

// schema is version 0; migrations (migrate.go) build on it.
const schema = `
CREATE TABLE IF NOT EXISTS users (
	name     TEXT    NOT NULL PRIMARY KEY,
	hash     TEXT    NOT NULL, -- argon2id, PHC string
	admin    INTEGER NOT NULL DEFAULT 0,
	disabled INTEGER NOT NULL DEFAULT 0,
	created  INTEGER NOT NULL -- unix ns
);
CREATE TABLE IF NOT EXISTS sessions (
	token   TEXT    NOT NULL PRIMARY KEY, -- sha256 of the cookie value, hex
	user    TEXT    NOT NULL REFERENCES users (name),
	csrf    TEXT    NOT NULL,
	expires INTEGER NOT NULL -- unix ns
);
CREATE TABLE IF NOT EXISTS audit (
	id     INTEGER PRIMARY KEY,
	at     INTEGER NOT NULL, -- unix ns
	user   TEXT    NOT NULL,
	action TEXT    NOT NULL,
	detail TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS alerts (
	id       INTEGER PRIMARY KEY,
	key      TEXT    NOT NULL UNIQUE, -- what raised it, e.g. entry:gate-1:42
	kind     TEXT    NOT NULL,        -- fever, pass_revoked, ...
	site     TEXT    NOT NULL,
	kiosk    TEXT    NOT NULL,
	detail   TEXT    NOT NULL DEFAULT '',
	raised   INTEGER NOT NULL, -- unix ns, hub clock
	state    TEXT    NOT NULL DEFAULT 'open', -- open, acked, closed
	by       TEXT    NOT NULL DEFAULT '',
	note     TEXT    NOT NULL DEFAULT '',
	updated  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS alerts_by_state ON alerts (state, raised);
CREATE TABLE IF NOT EXISTS settings (
	key   TEXT NOT NULL PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
	label     TEXT    NOT NULL PRIMARY KEY,
	token     TEXT    NOT NULL UNIQUE, -- sha256 of the token, hex
	user      TEXT    NOT NULL REFERENCES users (name),
	created   INTEGER NOT NULL, -- unix ns
	last_used INTEGER NOT NULL DEFAULT 0
);`

// Open opens (creating if needed) the store at path. c may be nil for
// the wall clock; it stamps sessions, audit lines, alerts and tokens.
func Open(path string, c clock.Clock) (*Store, error) {
	if path == "" {
		return nil, errors.New("open console store: empty path")
	}
	u := url.URL{Path: path}
	db, err := sql.Open("sqlite", "file:"+u.EscapedPath()+
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open console store %s: %w", path, err)
	}
	// One connection: the console's writes are few and small, and one
	// writer is what SQLite allows anyway.
	db.SetMaxOpenConns(1)
	// The version first: the base schema below must not touch a file a
	// newer hub wrote.
	if _, err := storeversion.CheckDB(context.Background(), db, FileName, SchemaVersion(), "hub"); err != nil {
		db.Close()
		return nil, fmt.Errorf("open console store %s: %w", path, err)
	}
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open console store %s: %w", path, err)
	}
	if err := migrate(context.Background(), db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open console store %s: %w", path, err)
	}
	return &Store{db: db, clock: clock.Or(c)}, nil
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Setting returns a stored setting, or def when there is none.
func (s *Store) Setting(ctx context.Context, key, def string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return def, nil
	}
	if err != nil {
		return "", fmt.Errorf("read setting %s: %w", key, err)
	}
	return v, nil
}

// SetSetting stores a setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("write setting %s: %w", key, err)
	}
	return nil
}
