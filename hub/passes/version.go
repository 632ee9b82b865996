package passes

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/storeversion"
)

// userVersionSteps[i] took passes.db from schema version i to i+1 in
// PRAGMA user_version, before the store used goose. Version 0 is the
// schema of every passes.db made before the file carried a version;
// version 1 changes no table: it marked a file opened by a build that
// checks versions. Adopting a file made before goose runs the steps it
// lacks (adoptFile). Frozen: new steps are goose migrations.
var userVersionSteps = []string{
	// 1: the version begins; the tables are version 0's.
	``,
}

// userVersionStep runs one of userVersionSteps in tx and records the
// version it reaches.
func userVersionStep(ctx context.Context, tx *sql.Tx, to int, statements string) error {
	if statements != "" {
		if _, err := tx.ExecContext(ctx, statements); err != nil {
			return err
		}
	}
	// PRAGMA takes no bound parameters; to is ours, not input.
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, to))
	return err
}

// SchemaVersion is the highest schema version of the pass store this
// build knows: its last goose migration. A passes.db made before goose
// (PRAGMA user_version 0 or 1) stands for version 1. Open migrates an
// older store up to it and refuses a newer one, unchanged.
func SchemaVersion() int {
	names, err := fs.Glob(migrations, "migrations/sqlite/*.sql")
	if err != nil {
		panic(err) // the pattern is valid
	}
	return len(names) // numbered 1, 2, … with no gap (a test holds it)
}

// markVersion sets a migrated SQLite file's user_version to goose's
// version, where a hub from before goose looks for it.
func markVersion(ctx context.Context, db *sqlstore.DB) error {
	v, err := sqlstore.Version(ctx, db, spec)
	if err != nil {
		return err
	}
	// PRAGMA takes no bound parameters; v is goose's record, an integer.
	_, err = db.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v))
	return err
}

// Versions reads the schema version of the pass store in the SQLite file
// at filePath without making or changing anything (the doctor's check
// before the hub opens it), and the highest version this build knows. A
// file made before goose is at 1, what adopting it records; a file whose
// user_version says a newer hub wrote it is at that version. A missing
// file is an error wrapping fs.ErrNotExist.
// A postgres:// URL reads the store's schema there instead
// (sqlstore.DatabaseVersions).
func Versions(ctx context.Context, filePath string) (have, known int64, err error) {
	if sqlstore.IsPostgres(filePath) { // --database: the store's schema there
		return sqlstore.DatabaseVersions(ctx, filePath, spec)
	}
	uv, err := storeversion.ReadFile(ctx, filePath)
	if err != nil {
		return 0, 0, err
	}
	if uv > SchemaVersion() {
		return int64(uv), int64(SchemaVersion()), nil
	}
	return sqlstore.FileVersions(ctx, filePath, spec)
}

// SharedVersions reads the schema version of the pass store in hub.db,
// the SQLite file at filePath it shares with the hub's other stores,
// without making or changing anything, and the highest version this
// build knows: 0 when the store has no tables there yet.
func SharedVersions(ctx context.Context, filePath string) (have, known int64, err error) {
	return sqlstore.FileVersions(ctx, filePath, shared)
}
