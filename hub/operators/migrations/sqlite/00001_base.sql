-- console.db as the hub kept it before its stores used goose: the base
-- schema with the scopes step (PRAGMA user_version 1), the columns that
-- step added at the end of users, as ALTER TABLE put them. A file made
-- before goose is adopted at this version (operators' adopt), so this
-- step runs on a new file only.

-- +goose Up
CREATE TABLE users (
	name      TEXT    NOT NULL PRIMARY KEY,
	hash      TEXT    NOT NULL, -- argon2id, PHC string
	admin     INTEGER NOT NULL DEFAULT 0,
	disabled  INTEGER NOT NULL DEFAULT 0,
	created   INTEGER NOT NULL, -- unix ns
	role      TEXT    NOT NULL DEFAULT '', -- '' (admin or operator by the admin column) or building-lead
	sites     TEXT    NOT NULL DEFAULT '', -- compounds, comma-separated; '' is every compound
	buildings TEXT    NOT NULL DEFAULT ''  -- a building lead's buildings, comma-separated
);
CREATE TABLE sessions (
	token   TEXT    NOT NULL PRIMARY KEY, -- sha256 of the cookie value, hex
	user    TEXT    NOT NULL REFERENCES users (name),
	csrf    TEXT    NOT NULL,
	expires INTEGER NOT NULL -- unix ns
);
CREATE TABLE audit (
	id     INTEGER PRIMARY KEY, -- the order lines were written in
	at     INTEGER NOT NULL, -- unix ns
	user   TEXT    NOT NULL,
	action TEXT    NOT NULL,
	detail TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE alerts (
	id       INTEGER PRIMARY KEY,
	key      TEXT    NOT NULL UNIQUE, -- what raised it, e.g. entry:gate-1:42
	kind     TEXT    NOT NULL,        -- fever, pass_revoked, ...
	site     TEXT    NOT NULL,
	kiosk    TEXT    NOT NULL,
	detail   TEXT    NOT NULL DEFAULT '',
	raised   INTEGER NOT NULL, -- unix ns, hub clock
	state    TEXT    NOT NULL DEFAULT 'open', -- open, acked, closed
	by       TEXT    NOT NULL DEFAULT '',
	note     TEXT    NOT NULL DEFAULT '',
	updated  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alerts_by_state ON alerts (state, raised);
CREATE TABLE settings (
	key   TEXT NOT NULL PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE api_tokens (
	label     TEXT    NOT NULL PRIMARY KEY,
	token     TEXT    NOT NULL UNIQUE, -- sha256 of the token, hex
	user      TEXT    NOT NULL REFERENCES users (name),
	created   INTEGER NOT NULL, -- unix ns
	last_used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE devices (
	token   TEXT    NOT NULL PRIMARY KEY, -- sha256 of the cookie value, hex
	user    TEXT    NOT NULL REFERENCES users (name),
	created INTEGER NOT NULL -- unix ns
);
