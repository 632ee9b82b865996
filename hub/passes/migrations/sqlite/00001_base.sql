-- The pass store as the hub kept it before its stores used goose (and as
-- passes' adopt finds it in such a file, schema version 1 in PRAGMA
-- user_version). Plain CREATE TABLE: this step runs on an empty file
-- only, never on one made before goose. Times are unix seconds.

-- +goose Up
CREATE TABLE keys (
	id        TEXT PRIMARY KEY,
	public    BLOB NOT NULL,
	created   INTEGER NOT NULL,
	retired   INTEGER,
	not_after INTEGER,
	withdrawn INTEGER -- the private key leaked: out of the key set for good
);
CREATE TABLE passes (
	id           TEXT PRIMARY KEY,
	key          TEXT NOT NULL REFERENCES keys(id),
	kind         TEXT NOT NULL,
	site         TEXT NOT NULL,
	unit         TEXT NOT NULL,
	name         TEXT NOT NULL,
	valid_from   INTEGER NOT NULL,
	valid_until  INTEGER NOT NULL,
	token        TEXT NOT NULL,
	issued       INTEGER NOT NULL,
	status       TEXT NOT NULL DEFAULT '',
	status_until INTEGER,
	reason       TEXT NOT NULL DEFAULT '',
	changed      INTEGER
);
CREATE INDEX passes_site ON passes (site, unit);
CREATE TABLE versions (
	name    TEXT PRIMARY KEY,
	version INTEGER NOT NULL
);
-- The status list starts at version 1 (empty); every change bumps it.
INSERT INTO versions (name, version) VALUES ('status_list', 1);
