package records

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatepost/gatepost/internal/storeversion"
)

// migrations[i] brought the schema from version i to version i+1 before
// hub.db moved to goose (migrations/); the version lives in PRAGMA
// user_version. They are kept to adopt a file an older hub wrote
// (migrate.go): never edit them, and add no more (a change is a goose
// step now).
func migrations() []string {
	return []string{
		// 1: entries keyed by (kiosk, seq), and one row per kiosk.
		`CREATE TABLE kiosks (
			kiosk      TEXT    NOT NULL PRIMARY KEY,
			site       TEXT    NOT NULL,
			contiguous INTEGER NOT NULL DEFAULT 0,
			highest    INTEGER NOT NULL DEFAULT 0,
			last_seen  INTEGER NOT NULL, -- unix nanoseconds, hub clock
			batches    INTEGER NOT NULL DEFAULT 0,
			conflicts  INTEGER NOT NULL DEFAULT 0
		) WITHOUT ROWID;
		CREATE TABLE entries (
			kiosk       TEXT    NOT NULL REFERENCES kiosks (kiosk),
			seq         INTEGER NOT NULL CHECK (seq > 0),
			site        TEXT    NOT NULL,
			id          TEXT    NOT NULL,
			time        TEXT    NOT NULL, -- kiosk clock, RFC 3339: informative only
			kind        TEXT    NOT NULL,
			decision    TEXT    NOT NULL,
			body        TEXT    NOT NULL, -- protocol.EncodeEntry
			received_at INTEGER NOT NULL, -- unix nanoseconds, hub clock
			PRIMARY KEY (kiosk, seq)
		) WITHOUT ROWID;
		CREATE INDEX entries_by_received ON entries (received_at);`,
		// 2: fleet state (clock skew, presence, what the kiosk reports) and
		// the downlink messages the hub has issued.
		`ALTER TABLE kiosks ADD COLUMN skew_ms INTEGER NOT NULL DEFAULT 0; -- hub clock minus batch sent
		ALTER TABLE kiosks ADD COLUMN online INTEGER NOT NULL DEFAULT 0;
		ALTER TABLE kiosks ADD COLUMN status_at INTEGER NOT NULL DEFAULT 0; -- unix ns, hub clock
		ALTER TABLE kiosks ADD COLUMN reported_unsynced INTEGER NOT NULL DEFAULT 0;
		ALTER TABLE kiosks ADD COLUMN disk_low INTEGER NOT NULL DEFAULT 0;
		ALTER TABLE kiosks ADD COLUMN write_failures INTEGER NOT NULL DEFAULT 0;
		ALTER TABLE kiosks ADD COLUMN downlink TEXT NOT NULL DEFAULT '{}'; -- kind -> version running
		CREATE TABLE downlinks (
			site    TEXT    NOT NULL,
			kiosk   TEXT    NOT NULL, -- '' for the whole site
			kind    TEXT    NOT NULL,
			version INTEGER NOT NULL,
			body    TEXT    NOT NULL, -- protocol.EncodeDownlink
			PRIMARY KEY (site, kiosk, kind)
		) WITHOUT ROWID;`,
		// 3: the broker connection of the kiosk's latest online message, so
		// that a stale last will from an earlier connection is ignored.
		`ALTER TABLE kiosks ADD COLUMN session TEXT NOT NULL DEFAULT '';`,
		// 4: the month view's counts per kiosk day and compound, kept by
		// SaveBatch (rollup.go) and built here once from the entries.
		`CREATE TABLE site_day (
			day        TEXT    NOT NULL, -- 2006-01-02, the kiosk's own date
			site       TEXT    NOT NULL,
			checks     INTEGER NOT NULL DEFAULT 0,
			visitors   INTEGER NOT NULL DEFAULT 0,
			deliveries INTEGER NOT NULL DEFAULT 0, -- parcels: a delivery's count, at least 1
			alerts     INTEGER NOT NULL DEFAULT 0,
			fevers     INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (day, site)
		) WITHOUT ROWID;
		` + siteDayBackfill + `;`,
		// 5: the unit in a column of its own: the unit filter's index was on
		// json_extract(body), which parsed every entry's JSON at insert.
		`ALTER TABLE entries ADD COLUMN unit TEXT NOT NULL DEFAULT '';
		UPDATE entries SET unit = json_extract(body, '$.unit') WHERE json_extract(body, '$.unit') != '';
		DROP INDEX IF EXISTS entries_by_unit;`,
		// 6: the id of the kiosk journal whose entries the hub holds ('' until
		// a kiosk that names its journal sends a batch), so that a replaced
		// journal, which numbers from 1 again, is told from the held one.
		`ALTER TABLE kiosks ADD COLUMN journal TEXT NOT NULL DEFAULT '';`,
		// 7: the entry chain (protocol.EntryHash): each entry's hash as the
		// hub computed it on receipt, the prev hash it carried (NULL from
		// kiosks that predate the chain), the digest of its personal fields
		// (kept when a purge removes them) and when it was purged (0: not).
		// Rows stored before this step have no hash and are not verified.
		`ALTER TABLE entries ADD COLUMN hash BLOB;
		ALTER TABLE entries ADD COLUMN prev BLOB;
		ALTER TABLE entries ADD COLUMN personal BLOB;
		ALTER TABLE entries ADD COLUMN purged_at INTEGER NOT NULL DEFAULT 0;`,
		// 8: each live batch's signature by its kiosk (sigs.go).
		batchSigsTable,
		// Later steps are goose's (migrations/): 00002 adds the fever column.
	}
}

// migrate applies the migrations the file lacks, in tx (the file's write
// lock held: adopting a file made before goose runs it, migrate.go), and
// logs each with how long it took: on a large file a step that builds
// from the entries (3) takes seconds.
func migrate(ctx context.Context, tx *sql.Tx, log *slog.Logger) error {
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	steps := migrations()
	if err := storeversion.Check("hub.db", version, len(steps), "hub"); err != nil {
		return err
	}
	for i := version; i < len(steps); i++ {
		start := time.Now() // the wall clock: how long the real work took, for the log
		if _, err := tx.ExecContext(ctx, steps[i]); err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", i+1, err)
		}
		if version > 0 { // a new file's steps are instant and not news
			log.Info("records: schema migrated", "to_version", i+1, "took", time.Since(start).Round(time.Millisecond))
		}
	}
	// PRAGMA takes no bound parameters; len(steps) is ours, not input.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(steps))); err != nil {
		return fmt.Errorf("migrate: write schema version: %w", err)
	}
	return nil
}
