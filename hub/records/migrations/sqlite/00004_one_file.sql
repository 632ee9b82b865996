-- +goose Up
-- hub.db holds every store of the hub now: the console's, the passes' and
-- the kiosk registry's tables too, each store with its own goose table
-- (goose_operators, goose_passes, goose_registry; the records keep
-- goose_db_version). The old files console.db, passes.db and kiosks.db
-- are merged into it on the first open (hub/datadir), and merged_files
-- records each merge, in the transaction that copies the file's rows, so
-- that a file found again after a crash is renamed, never copied twice.
-- The step also stops an older hub: it sees version 4, above the 3 it
-- knows, and refuses the file rather than starting with an empty console
-- beside it.
CREATE TABLE merged_files (
	name      TEXT    NOT NULL PRIMARY KEY, -- console.db, passes.db, kiosks.db
	merged_at INTEGER NOT NULL,             -- unix ns
	rows      TEXT    NOT NULL              -- rows copied per table: "users 3, sessions 5"
);
