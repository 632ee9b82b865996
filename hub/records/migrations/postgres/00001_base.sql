-- +goose Up
-- hub.db's tables in PostgreSQL, as the SQLite file's last schema before
-- goose (user_version 8) with the search indexes: times as bigint unix
-- nanoseconds, booleans as 0/1 integers, hashes as bytea, text compared
-- byte by byte (COLLATE "C") as SQLite compares it, so that orders and
-- cursors (kiosk > ?) agree on both engines.
CREATE TABLE kiosks (
	kiosk             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	site              TEXT COLLATE "C" NOT NULL,
	contiguous        BIGINT NOT NULL DEFAULT 0,
	highest           BIGINT NOT NULL DEFAULT 0,
	last_seen         BIGINT NOT NULL, -- unix nanoseconds, hub clock
	batches           BIGINT NOT NULL DEFAULT 0,
	conflicts         BIGINT NOT NULL DEFAULT 0,
	skew_ms           BIGINT NOT NULL DEFAULT 0, -- hub clock minus batch sent
	online            BIGINT NOT NULL DEFAULT 0,
	status_at         BIGINT NOT NULL DEFAULT 0, -- unix ns, hub clock
	reported_unsynced BIGINT NOT NULL DEFAULT 0,
	disk_low          BIGINT NOT NULL DEFAULT 0,
	write_failures    BIGINT NOT NULL DEFAULT 0,
	downlink          TEXT COLLATE "C" NOT NULL DEFAULT '{}', -- kind -> version running
	session           TEXT COLLATE "C" NOT NULL DEFAULT '',
	journal           TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE TABLE entries (
	kiosk       TEXT COLLATE "C" NOT NULL REFERENCES kiosks (kiosk),
	seq         BIGINT NOT NULL CHECK (seq > 0),
	site        TEXT COLLATE "C" NOT NULL,
	id          TEXT COLLATE "C" NOT NULL,
	time        TEXT COLLATE "C" NOT NULL, -- kiosk clock, RFC 3339: informative only
	kind        TEXT COLLATE "C" NOT NULL,
	decision    TEXT COLLATE "C" NOT NULL,
	body        TEXT COLLATE "C" NOT NULL, -- protocol.EncodeEntry
	received_at BIGINT NOT NULL, -- unix nanoseconds, hub clock
	unit        TEXT COLLATE "C" NOT NULL DEFAULT '',
	hash        BYTEA,
	prev        BYTEA,
	personal    BYTEA,
	purged_at   BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (kiosk, seq)
);
CREATE INDEX entries_by_received ON entries (received_at);
-- The search indexes (search.go's searchIndexes; SQLite makes them at
-- open). The fever index's WHERE is the engine's form of the filter's.
CREATE INDEX entries_by_site_received_unit ON entries (site, received_at, kiosk, seq, unit);
CREATE INDEX entries_by_kiosk_received_unit ON entries (kiosk, received_at, seq, unit);
CREATE INDEX entries_by_kind_not_check ON entries (kind, received_at) WHERE kind != 'check';
CREATE INDEX entries_by_decision_not_allow ON entries (decision, received_at) WHERE decision != 'allow';
CREATE INDEX entries_fever ON entries (received_at) WHERE strpos(body, '"fever') > 0;
CREATE INDEX entries_by_site_time ON entries (site, time, kind);
CREATE TABLE downlinks (
	site    TEXT COLLATE "C" NOT NULL,
	kiosk   TEXT COLLATE "C" NOT NULL, -- '' for the whole site
	kind    TEXT COLLATE "C" NOT NULL,
	version BIGINT NOT NULL,
	body    TEXT COLLATE "C" NOT NULL, -- protocol.EncodeDownlink
	PRIMARY KEY (site, kiosk, kind)
);
CREATE TABLE site_day (
	day        TEXT COLLATE "C" NOT NULL, -- 2006-01-02, the kiosk's own date
	site       TEXT COLLATE "C" NOT NULL,
	checks     BIGINT NOT NULL DEFAULT 0,
	visitors   BIGINT NOT NULL DEFAULT 0,
	deliveries BIGINT NOT NULL DEFAULT 0, -- parcels: a delivery's count, at least 1
	alerts     BIGINT NOT NULL DEFAULT 0,
	fevers     BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (day, site)
);
CREATE TABLE batch_sigs (
	kiosk     TEXT COLLATE "C" NOT NULL,
	journal   TEXT COLLATE "C" NOT NULL, -- '' for a batch naming none
	site      TEXT COLLATE "C" NOT NULL,
	first_seq BIGINT NOT NULL,
	last_seq  BIGINT NOT NULL,
	sig       TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (kiosk, journal, first_seq, last_seq)
);
