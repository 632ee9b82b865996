-- +goose Up
-- The register's table of kiosks is enrolled_kiosks: on SQLite the
-- register shares hub.db with the records, which have a table kiosks of
-- their own, and the statements are one set for both engines. The
-- foreign key of enroll_codes follows the table.
ALTER TABLE kiosks RENAME TO enrolled_kiosks;
