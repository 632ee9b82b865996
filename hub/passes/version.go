package passes

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] takes passes.db from schema version i to i+1 (PRAGMA
// user_version). Version 0 is the schema of store.go as every passes.db
// had it before the file carried a version: a file at 0 is that schema.
// Version 1 changes no table; it marks a file opened by a build that
// checks versions, so that an older build's file and a newer build's are
// told apart from here on. Append, never edit.
var migrations = []string{
	// 1: the version begins; the tables are version 0's.
	``,
}

// SchemaVersion is the highest schema version of passes.db this build
// knows: Open migrates an older file up to it and refuses a newer one,
// unchanged, with a *storeversion.NewerError.
func SchemaVersion() int { return len(migrations) }

// migrate brings the file from version from up to SchemaVersion, each
// step in its own transaction with the version it reaches.
func migrate(ctx context.Context, db *sql.DB, from int) error {
	for v := from; v < len(migrations); v++ {
		if err := step(ctx, db, v+1, migrations[v]); err != nil {
			return fmt.Errorf("migrate %s to schema version %d: %w", DBFile, v+1, err)
		}
	}
	return nil
}

func step(ctx context.Context, db *sql.DB, to int, statements string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if statements != "" {
		if _, err := tx.ExecContext(ctx, statements); err != nil {
			return err
		}
	}
	// PRAGMA takes no bound parameters; to is ours, not input.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, to)); err != nil {
		return err
	}
	return tx.Commit()
}
