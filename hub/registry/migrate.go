package registry

import (
	"context"
	"database/sql"
	"embed"

	"github.com/gatepost/gatepost/hub/sqlstore"
)

// The registry's tables are made and changed by numbered SQL files, one
// folder per engine (migrations/sqlite, migrations/postgres) with the same
// numbers meaning the same change, applied by goose (hub/sqlstore). Goose
// records what it applied in the table goose_db_version beside the
// registry's (in kiosks.db and in the PostgreSQL schema), or in
// goose_registry in hub.db, which the registry shares with the other
// stores (VersionTable).

//go:embed migrations
var migrations embed.FS

// ErrNewerSchema says that the database was brought to a version by a
// newer hub than this one: this build does not know its tables, so it
// does not touch them.
var ErrNewerSchema = sqlstore.ErrNewerSchema

// spec is the registry as hub/sqlstore opens and migrates it. Its
// advisory lock is "gate" and 1: the registry was the first store.
var spec = sqlstore.Spec{
	Name:       "kiosk registry",
	Schema:     Schema,
	LockID:     0x67617465_00000001,
	Migrations: migrations,
	PreGoose:   preGooseVersion,
	Adopt: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, preGoose)
		return err
	},
}

// preGooseVersion says what a kiosks.db with no goose table stands for:
// version 1 (00001_base.sql is the last pre-goose schema) when it has the
// register's tables, and 0, nothing to adopt, for a new file.
func preGooseVersion(ctx context.Context, q sqlstore.Queryer) (int64, error) {
	old, err := sqlstore.HasTable(ctx, q, sqlstore.SQLite, "kiosks")
	if err != nil || !old {
		return 0, err
	}
	return 1, nil
}

// preGoose is what the registry ran at every open before it used goose:
// idempotent, it brought any earlier file to its last shape. Adopting a
// file runs it once more, which completes an earlier shape and changes
// nothing in the last one; the base step itself never runs on such a
// file (its plain CREATE TABLE would fail there).
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
