package journal

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/gatepost/gatepost/internal/storeversion"
)

// SchemaVersion is the highest schema version of a journal this build
// knows (PRAGMA user_version). Open migrates an older journal up to it;
// Open and OpenReadOnly refuse a newer one, unchanged, with a
// *storeversion.NewerError: a kiosk that was downgraded must not write
// into (or misread) a journal whose unsynced entries a newer build laid
// out.
//
// Version 0 is every journal from before journals carried a version: the
// tables of schema, with the columns each build added found by name
// (migrateUnversioned). Version 1 adds the calibration table at open
// rather than at the first calibration.
const SchemaVersion = 1

// migrations[i] takes a journal from version i+1 to i+2; the step from 0
// to 1 is migrateUnversioned and the calibration table. Append, never
// edit.
var migrations = []string{}

// migrate checks the journal's version before anything writes to it,
// then brings it up to SchemaVersion, each step in one transaction with
// the version it reaches.
func (j *Journal) migrate(ctx context.Context) error {
	version, err := storeversion.CheckDB(ctx, j.db, filepath.Base(j.path), SchemaVersion, "kiosk")
	if err != nil {
		return err
	}
	if version == 0 {
		if err := j.migrateUnversioned(); err != nil {
			return err
		}
		if err := j.step(ctx, 1, calibrationSchema); err != nil {
			return err
		}
		version = 1
	}
	for v := version; v < SchemaVersion; v++ {
		if err := j.step(ctx, v+1, migrations[v-1]); err != nil {
			return err
		}
	}
	return nil
}

func (j *Journal) step(ctx context.Context, to int, statements string) error {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate journal to schema version %d: %w", to, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, statements); err != nil {
		return fmt.Errorf("migrate journal to schema version %d: %w", to, err)
	}
	// PRAGMA takes no bound parameters; to is ours, not input.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, to)); err != nil {
		return fmt.Errorf("migrate journal to schema version %d: %w", to, err)
	}
	return tx.Commit()
}

// migrateUnversioned makes a new journal's tables, or brings a journal
// from before versions to version 0's full shape: each build before
// versions added columns, found here by name.
func (j *Journal) migrateUnversioned() error {
	if _, err := j.db.Exec(schema); err != nil {
		return err
	}
	// Journals from before alerts jumped the queue lack the alert column.
	var hasAlert int
	if err := j.db.QueryRow(`SELECT count(*) FROM pragma_table_info('entries') WHERE name = 'alert'`).Scan(&hasAlert); err != nil {
		return err
	}
	if hasAlert == 0 {
		if _, err := j.db.Exec(`ALTER TABLE entries ADD COLUMN alert INTEGER NOT NULL DEFAULT 0;
			CREATE INDEX IF NOT EXISTS entries_alerts ON entries (seq) WHERE alert = 1`); err != nil {
			return err
		}
	}
	// Journals from before journal ids lack the column; they get an id
	// (Open), like a new journal.
	var hasID int
	if err := j.db.QueryRow(`SELECT count(*) FROM pragma_table_info('state') WHERE name = 'journal'`).Scan(&hasID); err != nil {
		return err
	}
	if hasID == 0 {
		if _, err := j.db.Exec(`ALTER TABLE state ADD COLUMN journal TEXT NOT NULL DEFAULT ''`); err != nil {
			return err
		}
	}
	return j.initChain()
}
