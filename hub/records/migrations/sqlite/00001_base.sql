-- +goose Up
-- hub.db's tables as its last schema before goose left them (PRAGMA
-- user_version 8): a file made before goose is adopted at this version
-- (hub/records/migrate.go) and never runs this step. The search indexes
-- are not here: they hold nothing of their own, and opening a file makes
-- the ones it lacks (ensureSearchIndexes).
CREATE TABLE kiosks (
	kiosk             TEXT    NOT NULL PRIMARY KEY,
	site              TEXT    NOT NULL,
	contiguous        INTEGER NOT NULL DEFAULT 0,
	highest           INTEGER NOT NULL DEFAULT 0,
	last_seen         INTEGER NOT NULL, -- unix nanoseconds, hub clock
	batches           INTEGER NOT NULL DEFAULT 0,
	conflicts         INTEGER NOT NULL DEFAULT 0,
	skew_ms           INTEGER NOT NULL DEFAULT 0, -- hub clock minus batch sent
	online            INTEGER NOT NULL DEFAULT 0,
	status_at         INTEGER NOT NULL DEFAULT 0, -- unix ns, hub clock
	reported_unsynced INTEGER NOT NULL DEFAULT 0,
	disk_low          INTEGER NOT NULL DEFAULT 0,
	write_failures    INTEGER NOT NULL DEFAULT 0,
	downlink          TEXT    NOT NULL DEFAULT '{}', -- kind -> version running
	session           TEXT    NOT NULL DEFAULT '',
	journal           TEXT    NOT NULL DEFAULT ''
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
	unit        TEXT    NOT NULL DEFAULT '',
	hash        BLOB,
	prev        BLOB,
	personal    BLOB,
	purged_at   INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (kiosk, seq)
) WITHOUT ROWID;
CREATE INDEX entries_by_received ON entries (received_at);
CREATE TABLE downlinks (
	site    TEXT    NOT NULL,
	kiosk   TEXT    NOT NULL, -- '' for the whole site
	kind    TEXT    NOT NULL,
	version INTEGER NOT NULL,
	body    TEXT    NOT NULL, -- protocol.EncodeDownlink
	PRIMARY KEY (site, kiosk, kind)
) WITHOUT ROWID;
CREATE TABLE site_day (
	day        TEXT    NOT NULL, -- 2006-01-02, the kiosk's own date
	site       TEXT    NOT NULL,
	checks     INTEGER NOT NULL DEFAULT 0,
	visitors   INTEGER NOT NULL DEFAULT 0,
	deliveries INTEGER NOT NULL DEFAULT 0, -- parcels: a delivery's count, at least 1
	alerts     INTEGER NOT NULL DEFAULT 0,
	fevers     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (day, site)
) WITHOUT ROWID;
CREATE TABLE batch_sigs (
	kiosk     TEXT    NOT NULL,
	journal   TEXT    NOT NULL, -- '' for a batch naming none
	site      TEXT    NOT NULL,
	first_seq INTEGER NOT NULL,
	last_seq  INTEGER NOT NULL,
	sig       TEXT    NOT NULL,
	PRIMARY KEY (kiosk, journal, first_seq, last_seq)
) WITHOUT ROWID;
-- The mark an older hub reads: this file is the shape it knows as 8.
PRAGMA user_version = 8;
