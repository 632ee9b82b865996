-- +goose Up
-- Whether an entry has a reason counted as a fever (hasFever), in a
-- column of its own, filled from the stored bodies: the fever filter's
-- partial index was on instr(body, ...), which SQLite ran over every
-- stored body at insert (a twentieth of ingest). The new index (fever = 1)
-- is made at open with the other search indexes (search.go), which drops
-- the old one. user_version 9: a hub from before goose, which knows 8 and
-- would store entries without the flag, refuses the file.
ALTER TABLE entries ADD COLUMN fever INTEGER NOT NULL DEFAULT 0; -- 1: a reason counted as a fever
UPDATE entries SET fever = 1 WHERE instr(body, '"fever') > 0 AND EXISTS (
	SELECT 1 FROM json_each(body, '$.reasons') WHERE substr(value, 1, 5) = 'fever');
DROP INDEX IF EXISTS entries_fever;
PRAGMA user_version = 9;
