package operators

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gatepost/gatepost/internal/storeversion"
)

// migrations bring a console.db up to date, one step per schema version
// (PRAGMA user_version): migrations[i] takes version i to i+1. The base
// schema (version 0) is what every console.db has had since the first
// release; a file made before scopes existed opens as version 0 and is
// migrated in place, keeping its users, sessions, tokens and audit log.
var migrations = []string{
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

// migrate runs the migrations the file lacks, each in its own
// transaction with the version it reaches.
func migrate(ctx context.Context, db *sql.DB) error {
	var version int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if err := storeversion.Check(FileName, version, SchemaVersion(), "hub"); err != nil {
		return err
	}
	for v := version; v < len(migrations); v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
	return nil
}

// SchemaVersion is the highest schema version of console.db this build
// knows: Open migrates an older file up to it and refuses a newer one,
// unchanged, with a *storeversion.NewerError.
func SchemaVersion() int { return len(migrations) }
