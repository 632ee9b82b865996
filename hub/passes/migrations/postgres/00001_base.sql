-- The pass store's first shape on PostgreSQL: the same tables and columns
-- as migrations/sqlite/00001_base.sql, times as unix seconds in BIGINT,
-- the public keys in BYTEA. The tables live in the schema "passes" (the
-- store's search_path), so the hub's other stores can share the database
-- without sharing names. The ids, sites and units sort byte by byte
-- (COLLATE "C"), as SQLite sorts them, whatever the database's locale.

-- +goose Up
CREATE TABLE keys (
	id        TEXT COLLATE "C" PRIMARY KEY,
	public    BYTEA  NOT NULL,
	created   BIGINT NOT NULL,
	retired   BIGINT,
	not_after BIGINT,
	withdrawn BIGINT -- the private key leaked: out of the key set for good
);
CREATE TABLE passes (
	id           TEXT COLLATE "C" PRIMARY KEY,
	key          TEXT COLLATE "C" NOT NULL REFERENCES keys(id),
	kind         TEXT   NOT NULL,
	site         TEXT COLLATE "C" NOT NULL,
	unit         TEXT COLLATE "C" NOT NULL,
	name         TEXT   NOT NULL,
	valid_from   BIGINT NOT NULL,
	valid_until  BIGINT NOT NULL,
	token        TEXT   NOT NULL,
	issued       BIGINT NOT NULL,
	status       TEXT   NOT NULL DEFAULT '',
	status_until BIGINT,
	reason       TEXT   NOT NULL DEFAULT '',
	changed      BIGINT
);
CREATE INDEX passes_site ON passes (site, unit);
CREATE TABLE versions (
	name    TEXT PRIMARY KEY,
	version BIGINT NOT NULL
);
-- The status list starts at version 1 (empty); every change bumps it.
INSERT INTO versions (name, version) VALUES ('status_list', 1);
