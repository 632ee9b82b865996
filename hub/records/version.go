package records

import (
	"context"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/storeversion"
)

// SchemaVersion is the PRAGMA user_version that hub.db files of this build
// carry: 8 was the last schema before hub.db moved to goose (goose's base
// step, migrations/sqlite/00001_base.sql, writes it too), and each goose
// step that changes what an older hub would write sets one more (00002,
// the fever column: 9), so that an older hub refuses a file it would
// store wrongly into. Open migrates a file from before goose up to 8 and
// then goose's steps, and refuses one above SchemaVersion, unchanged,
// with a *storeversion.NewerError.
func SchemaVersion() int { return lastPreGoose + 1 }

// lastPreGoose is the last user_version step before goose (schema.go).
var lastPreGoose = len(migrations())

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
