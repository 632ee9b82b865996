package passes

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/storeversion"
)

// The pass store's tables are made and changed by numbered SQL files, one
// folder per engine (migrations/sqlite, migrations/postgres) with the same
// numbers meaning the same change, applied by goose (hub/sqlstore). Goose
// records what it applied in the table goose_db_version beside the
// store's (in passes.db and in the PostgreSQL schema), or in goose_passes
// in hub.db, which the store shares with the others (VersionTable).

//go:embed migrations
var migrations embed.FS

// Schema is the PostgreSQL schema that holds the pass store's tables (and
// its migrations' record), so that the hub's other stores can share one
// database without sharing table names.
const Schema = "passes"

// ErrNewerSchema says that the database was brought to a version by a
// newer hub than this one: this build does not know its tables, so it
// does not touch them. A SQLite file whose PRAGMA user_version is newer
// is refused with a *storeversion.NewerError instead.
var ErrNewerSchema = sqlstore.ErrNewerSchema

// spec is the pass store as hub/sqlstore opens and migrates it. Its
// advisory lock is "gate" and 4: the fourth store (registry 1, records
// 2, operators 3).
var spec = sqlstore.Spec{
	Name:       "pass store",
	Schema:     Schema,
	LockID:     0x67617465_00000004,
	Migrations: migrations,
	PreGoose:   preGooseVersion,
	Adopt:      adoptFile,
}

// preGooseVersion says what a passes.db with no goose table stands for:
// version 1 (00001_base.sql is the last shape before goose, user_version
// 1) when it has the store's tables, and 0, nothing to adopt, for a new
// file. A file whose user_version is above the last one before goose is
// refused (a *storeversion.NewerError): it is not ours to adopt.
func preGooseVersion(ctx context.Context, q sqlstore.Queryer) (int64, error) {
	old, err := sqlstore.HasTable(ctx, q, sqlstore.SQLite, "passes")
	if err != nil || !old {
		return 0, err
	}
	if _, err := storeversion.CheckDB(ctx, q, DBFile, len(userVersionSteps), "hub"); err != nil {
		return 0, err
	}
	return 1, nil
}

// adoptFile brings a file made before goose to 00001_base's exact shape,
// in the adopting transaction: it runs what the store ran at every open
// then (the tables made if missing, the status list's first version),
// and the steps of PRAGMA user_version from the file's version onwards.
func adoptFile(ctx context.Context, tx *sql.Tx) error {
	from, err := storeversion.CheckDB(ctx, tx, DBFile, len(userVersionSteps), "hub")
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, preGoose); err != nil {
		return err
	}
	for v := from; v < len(userVersionSteps); v++ {
		if err := userVersionStep(ctx, tx, v+1, userVersionSteps[v]); err != nil {
			return fmt.Errorf("migrate %s to schema version %d: %w", DBFile, v+1, err)
		}
	}
	return nil
}

// preGoose is what the store ran at every open before it used goose:
// idempotent, it made a new file's tables and changed nothing in an
// existing one.
const preGoose = `
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
INSERT OR IGNORE INTO versions (name, version) VALUES ('status_list', 1);
`
