-- +goose Up
-- Whether an entry has a reason counted as a fever (hasFever), in a
-- column of its own, filled from the stored bodies, and the fever
-- filter's index on it instead of on strpos(body, ...), which ran over
-- every stored body at insert.
ALTER TABLE entries ADD COLUMN fever BIGINT NOT NULL DEFAULT 0; -- 1: a reason counted as a fever
UPDATE entries SET fever = 1 WHERE strpos(body, '"fever') > 0 AND EXISTS (
	SELECT 1 FROM jsonb_array_elements_text(body::jsonb -> 'reasons') AS r(reason) WHERE left(r.reason, 5) = 'fever');
DROP INDEX IF EXISTS entries_fever;
CREATE INDEX entries_fever_flag ON entries (received_at) WHERE fever = 1;
