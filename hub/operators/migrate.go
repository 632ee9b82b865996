package operators

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/storeversion"
)

// The store's tables are made and changed by numbered SQL files, one
// folder per engine (migrations/sqlite, migrations/postgres) with the
// same numbers meaning the same change, applied by goose (hub/sqlstore),
// which records what it applied in goose_db_version beside the tables
// (in console.db and in the PostgreSQL schema), or in goose_operators in
// hub.db, which the store shares with the others (VersionTable).

//go:embed migrations
var migrations embed.FS

// spec is the store as hub/sqlstore opens and migrates it. Its advisory
// lock is "gate" and 3 (registry 1, records 2, operators 3, passes 4).
var spec = sqlstore.Spec{
	Name:       "console store",
	Schema:     Schema,
	LockID:     0x67617465_00000003,
	Migrations: migrations,
	PreGoose:   preGooseVersion,
	Adopt:      adoptPreGoose,
}

// SchemaVersion is the highest schema version of the store this build
// knows (its last migration): Open migrates an older store up to it and
// refuses a newer one, unchanged.
func SchemaVersion() int {
	names, _ := fs.Glob(migrations, "migrations/sqlite/*.sql") // embedded: cannot fail
	return len(names)
}

// Versions reads the schema version of the console.db at path without
// making or changing anything (the doctor's check before the hub opens
// it), and the highest version this build knows. A file made before the
// store used goose is at the version adopting it records (1), or at its
// PRAGMA user_version when that is higher: a file this build must refuse.
// A missing file is an error wrapping fs.ErrNotExist.
// A postgres:// URL reads the store's schema there instead
// (sqlstore.DatabaseVersions).
func Versions(ctx context.Context, path string) (have, known int64, err error) {
	if sqlstore.IsPostgres(path) { // --database: the store's schema there
		return sqlstore.DatabaseVersions(ctx, path, spec)
	}
	have, known, err = sqlstore.FileVersions(ctx, path, spec)
	if err != nil {
		return 0, 0, err
	}
	uv, err := storeversion.ReadFile(ctx, path)
	if err != nil {
		return 0, 0, err
	}
	return max(have, int64(uv)), known, nil
}

// SharedVersions reads the schema version of the store in hub.db, the
// SQLite file at path it shares with the hub's other stores, without
// making or changing anything, and the highest version this build knows:
// 0 when the store has no tables there yet.
func SharedVersions(ctx context.Context, path string) (have, known int64, err error) {
	return sqlstore.FileVersions(ctx, path, shared)
}

// lastPreGoose is the last version console.db reached with PRAGMA
// user_version, before the store used goose: 00001_base.sql is its
// shape.
const lastPreGoose = 1

// preGooseVersion says what a console.db with no goose table stands
// for: version 1 when it has the store's tables (its user_version when
// higher, which adopting refuses), 0 for a new file.
func preGooseVersion(ctx context.Context, q sqlstore.Queryer) (int64, error) {
	old, err := sqlstore.HasTable(ctx, q, sqlstore.SQLite, "users")
	if err != nil || !old {
		return 0, err
	}
	v, err := storeversion.Read(ctx, q)
	if err != nil {
		return 0, err
	}
	return max(lastPreGoose, int64(v)), nil
}

// adoptPreGoose brings a console.db made before goose to the shape of
// 00001_base.sql, in the adopting transaction: a file at a user_version
// above the last this build had is refused unchanged; an older one gets
// the base schema and the steps it lacks, as Open ran them before.
func adoptPreGoose(ctx context.Context, tx *sql.Tx) error {
	v, err := storeversion.CheckDB(ctx, tx, FileName, lastPreGoose, "hub")
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, preGooseSchema); err != nil {
		return err
	}
	for ; v < len(preGooseSteps); v++ {
		if _, err := tx.ExecContext(ctx, preGooseSteps[v]); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
	_, err = tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, lastPreGoose))
	return err
}

// preGooseSchema is version 0 of console.db, which Open ran at every
// open before the store used goose; preGooseSteps built on it.
const preGooseSchema = `
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

// preGooseSteps brought a console.db up to date before the store used
// goose, one step per PRAGMA user_version: preGooseSteps[i] took version
// i to i+1. A file made before scopes existed is at version 0.
var preGooseSteps = []string{
	// 1: compound scopes, the building lead role and known devices.
	`ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT ''; -- '' (admin or operator by the admin column) or building-lead
	ALTER TABLE users ADD COLUMN sites TEXT NOT NULL DEFAULT ''; -- compounds, comma-separated; '' is every compound
	ALTER TABLE users ADD COLUMN buildings TEXT NOT NULL DEFAULT ''; -- a building lead's buildings, comma-separated
	CREATE TABLE IF NOT EXISTS devices (
		token   TEXT    NOT NULL PRIMARY KEY, -- sha256 of the cookie value, hex
		user    TEXT    NOT NULL REFERENCES users (name),
		created INTEGER NOT NULL -- unix ns
	);`,
}
