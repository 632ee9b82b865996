package records

import (
	"context"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/storeversion"
)

// SchemaVersion is the PRAGMA user_version that hub.db files of this build
// carry: 8, the last schema before hub.db moved to goose, which goose's
// base step (migrations/sqlite/00001_base.sql) writes too, so that an
// older hub opens a new file as the shape it knows. Open migrates a file
// from before goose up to it and refuses one above it, unchanged, with a
// *storeversion.NewerError.
func SchemaVersion() int { return len(migrations()) }

// Versions reads the goose version of the records in the SQLite file at
// path without making or changing anything (the doctor's check before the
// hub opens it), and the highest version this build knows. A file made
// before goose is at 1 when its tables are at user_version 8 (what
// adopting it records), and at 0 when older (serve upgrades it). A
// user_version above this build's is an error wrapping
// storeversion.ErrNewer, naming both; a missing file one wrapping
// fs.ErrNotExist.
// A postgres:// URL reads the store's schema there instead
// (sqlstore.DatabaseVersions).
func Versions(ctx context.Context, path string) (have, known int64, err error) {
	if sqlstore.IsPostgres(path) { // --database: the store's schema there
		return sqlstore.DatabaseVersions(ctx, path, spec(nil))
	}
	uv, err := storeversion.ReadFile(ctx, path)
	if err != nil {
		return 0, 0, err
	}
	if err := storeversion.Check("hub.db", uv, SchemaVersion(), "hub"); err != nil {
		return 0, 0, err
	}
	have, known, err = sqlstore.FileVersions(ctx, path, spec(nil))
	if err == nil && uv < SchemaVersion() {
		have = 0 // adopting it runs the older steps first
	}
	return have, known, err
}
