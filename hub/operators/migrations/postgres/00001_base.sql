-- console.db's tables on PostgreSQL: the same tables and columns as
-- migrations/sqlite/00001_base.sql, times as unix nanoseconds in BIGINT,
-- booleans as 0 or 1 in INTEGER, and the audit log's and alerts' ids an
-- identity column, so that lines keep the order they were written in.
-- The tables live in the schema "operators" (the store's search_path).
-- "user" and "by" are reserved words in PostgreSQL: every statement of
-- the store quotes them, on both engines.

-- +goose Up
CREATE TABLE users (
	name      TEXT    NOT NULL PRIMARY KEY,
	hash      TEXT    NOT NULL, -- argon2id, PHC string
	admin     INTEGER NOT NULL DEFAULT 0,
	disabled  INTEGER NOT NULL DEFAULT 0,
	created   BIGINT  NOT NULL, -- unix ns
	role      TEXT    NOT NULL DEFAULT '', -- '' (admin or operator by the admin column) or building-lead
	sites     TEXT    NOT NULL DEFAULT '', -- compounds, comma-separated; '' is every compound
	buildings TEXT    NOT NULL DEFAULT ''  -- a building lead's buildings, comma-separated
);
CREATE TABLE sessions (
	token   TEXT   NOT NULL PRIMARY KEY, -- sha256 of the cookie value, hex
	"user"  TEXT   NOT NULL REFERENCES users (name),
	csrf    TEXT   NOT NULL,
	expires BIGINT NOT NULL -- unix ns
);
CREATE TABLE audit (
	id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- the order lines were written in
	at     BIGINT NOT NULL, -- unix ns
	"user" TEXT   NOT NULL,
	action TEXT   NOT NULL,
	detail TEXT   NOT NULL DEFAULT ''
);
CREATE TABLE alerts (
	id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key      TEXT   NOT NULL UNIQUE, -- what raised it, e.g. entry:gate-1:42
	kind     TEXT   NOT NULL,        -- fever, pass_revoked, ...
	site     TEXT   NOT NULL,
	kiosk    TEXT   NOT NULL,
	detail   TEXT   NOT NULL DEFAULT '',
	raised   BIGINT NOT NULL, -- unix ns, hub clock
	state    TEXT   NOT NULL DEFAULT 'open', -- open, acked, closed
	"by"     TEXT   NOT NULL DEFAULT '',
	note     TEXT   NOT NULL DEFAULT '',
	updated  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX alerts_by_state ON alerts (state, raised);
CREATE TABLE settings (
	key   TEXT NOT NULL PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE api_tokens (
	label     TEXT   NOT NULL PRIMARY KEY,
	token     TEXT   NOT NULL UNIQUE, -- sha256 of the token, hex
	"user"    TEXT   NOT NULL REFERENCES users (name),
	created   BIGINT NOT NULL, -- unix ns
	last_used BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE devices (
	token   TEXT   NOT NULL PRIMARY KEY, -- sha256 of the cookie value, hex
	"user"  TEXT   NOT NULL REFERENCES users (name),
	created BIGINT NOT NULL -- unix ns
);
