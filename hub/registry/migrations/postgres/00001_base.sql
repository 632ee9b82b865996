-- The register's first shape on PostgreSQL: the same tables and columns as
-- migrations/sqlite/00001_base.sql, times as unix nanoseconds in BIGINT.
-- The tables live in the schema "registry" (the store's search_path), so
-- the hub's other stores can share the database without sharing names.

-- +goose Up
CREATE TABLE kiosks (
	kiosk        TEXT   NOT NULL PRIMARY KEY,
	site         TEXT   NOT NULL,
	state        TEXT   NOT NULL,
	public_key   TEXT   NOT NULL DEFAULT '', -- protocol.PublicKeyText
	secret_hash  TEXT   NOT NULL DEFAULT '', -- sha256 of the broker secret, hex
	mosquitto    TEXT   NOT NULL DEFAULT '', -- the same secret in Mosquitto's $7$ format
	created      BIGINT NOT NULL,            -- unix ns
	enrolled     BIGINT NOT NULL DEFAULT 0,
	retired      BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE enroll_codes (
	code_hash TEXT   NOT NULL PRIMARY KEY, -- sha256 of the secret, hex: the secret itself is never stored
	kiosk     TEXT   NOT NULL REFERENCES kiosks (kiosk),
	site      TEXT   NOT NULL,
	expires   BIGINT NOT NULL,
	used      BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE transitions (
	site     TEXT   NOT NULL PRIMARY KEY,
	deadline BIGINT NOT NULL -- unix ns: the site's unenrolled kiosks are refused from then on
);
CREATE TABLE test_sites (
	site TEXT NOT NULL PRIMARY KEY -- entries from simulated devices are taken from these sites only
);
CREATE TABLE generation (
	id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
	n  BIGINT  NOT NULL -- bumped in the transaction of every change
);
INSERT INTO generation (id, n) VALUES (1, 0);
