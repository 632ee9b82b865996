-- The register as the hub kept it before its stores used goose (and as
-- registry's adopt finds it in such a file). Plain CREATE TABLE: this step
-- runs on an empty file only, never on one made before goose.
--
-- The table of kiosks is enrolled_kiosks: the register shares hub.db with
-- the records, which have a table kiosks of their own (issue 15). Files of
-- the register's own (kiosks.db) were made when this step still named it
-- kiosks; OpenFile renames it there, and 00003 does on PostgreSQL.

-- +goose Up
CREATE TABLE enrolled_kiosks (
	kiosk        TEXT    NOT NULL PRIMARY KEY,
	site         TEXT    NOT NULL,
	state        TEXT    NOT NULL,
	public_key   TEXT    NOT NULL DEFAULT '', -- protocol.PublicKeyText
	secret_hash  TEXT    NOT NULL DEFAULT '', -- sha256 of the broker secret, hex
	mosquitto    TEXT    NOT NULL DEFAULT '', -- the same secret in Mosquitto's $7$ format
	created      INTEGER NOT NULL,            -- unix ns
	enrolled     INTEGER NOT NULL DEFAULT 0,
	retired      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE enroll_codes (
	code_hash TEXT    NOT NULL PRIMARY KEY, -- sha256 of the secret, hex: the secret itself is never stored
	kiosk     TEXT    NOT NULL REFERENCES enrolled_kiosks (kiosk),
	site      TEXT    NOT NULL,
	expires   INTEGER NOT NULL,
	used      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE transitions (
	site     TEXT    NOT NULL PRIMARY KEY,
	deadline INTEGER NOT NULL -- unix ns: the site's unenrolled kiosks are refused from then on
);
CREATE TABLE test_sites (
	site TEXT NOT NULL PRIMARY KEY -- entries from simulated devices are taken from these sites only
);
CREATE TABLE generation (
	id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	n  INTEGER NOT NULL -- bumped in the transaction of every change
);
INSERT INTO generation (id, n) VALUES (1, 0);
