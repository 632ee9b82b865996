package registry

import (
	"context"

	"github.com/gatepost/gatepost/hub/sqlstore"
)

// Versions reads the schema version of the register in the SQLite file
// at filePath without making or changing anything (the doctor's check
// before the hub opens it), and the highest version this build knows. A
// file made before the register moved to goose migrations, with its
// tables and no version table, is at version 1: what adopting it records.
// A missing file is an error wrapping fs.ErrNotExist.
// A postgres:// URL reads the store's schema there instead
// (sqlstore.DatabaseVersions).
func Versions(ctx context.Context, filePath string) (have, known int64, err error) {
	if sqlstore.IsPostgres(filePath) { // --database: the store's schema there
		return sqlstore.DatabaseVersions(ctx, filePath, spec)
	}
	return sqlstore.FileVersions(ctx, filePath, spec)
}

// SharedVersions reads the schema version of the register in hub.db, the
// SQLite file at filePath it shares with the hub's other stores, without
// making or changing anything, and the highest version this build knows:
// 0 when the register has no tables there yet.
func SharedVersions(ctx context.Context, filePath string) (have, known int64, err error) {
	return sqlstore.FileVersions(ctx, filePath, shared)
}
