package records

import (
	"context"
	"database/sql"
	"embed"
	"log/slog"

	"github.com/gatepost/gatepost/hub/sqlstore"
)

// hub.db's tables are made and changed by numbered SQL files, one folder
// per engine (migrations/sqlite, migrations/postgres) with the same
// numbers meaning the same change, applied by goose (hub/sqlstore), which
// records them in goose_db_version beside the tables.

//go:embed migrations
var migrationFiles embed.FS

// Schema is the PostgreSQL schema that holds the records' tables (and
// their migrations' record), so that the hub's stores can share one
// database.
const Schema = "records"

// ErrNewerSchema says that the database was brought to a goose version
// by a newer hub than this one: this build does not know its tables, so
// it does not touch them. A file from before goose with a newer
// user_version is refused with a *storeversion.NewerError instead.
var ErrNewerSchema = sqlstore.ErrNewerSchema

// spec is the records as hub/sqlstore opens and migrates them; log hears
// of the older steps adopting a file runs (nil: nothing). The advisory
// lock is "gate" and 2: records were the second store.
func spec(log *slog.Logger) sqlstore.Spec {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return sqlstore.Spec{
		Name:       "records",
		Schema:     Schema,
		LockID:     0x67617465_00000002,
		Migrations: migrationFiles,
		PreGoose:   preGooseVersion,
		Adopt: func(ctx context.Context, tx *sql.Tx) error {
			return migrate(ctx, tx, log)
		},
		// A group commit saves each batch inside a savepoint, and SQLite
		// copies each page a savepoint changes first into a sub-journal:
		// a temporary file, written a page and a page number at a time
		// (an eighth of the hub's CPU draining an outage). In memory it
		// holds one batch's pages at most (RELEASE empties it)
		// (BenchmarkGroupTempStore: 1.20x a drain's group). And the WAL
		// is copied into the file after 10,000 pages written, not 1,000:
		// a drain's group writes about a thousand, so every commit also
		// checkpointed, copying the same hot index pages again each time
		// (BenchmarkGroupCheckpoint: 1.14x); the WAL grows to about
		// 40 MB between checkpoints.
		Pragmas: []string{"temp_store(memory)", sqlstore.SharedCheckpoint},
	}
}

// preGooseVersion says what a hub.db with no goose table stands for:
// version 1 (00001_base.sql is user_version 8's shape, which adopting
// brings it to by running the older steps it lacks: migrate) when it has
// the entries table, and 0, nothing to adopt, for a new file.
func preGooseVersion(ctx context.Context, q sqlstore.Queryer) (int64, error) {
	old, err := sqlstore.HasTable(ctx, q, sqlstore.SQLite, "entries")
	if err != nil || !old {
		return 0, err
	}
	return 1, nil
}
