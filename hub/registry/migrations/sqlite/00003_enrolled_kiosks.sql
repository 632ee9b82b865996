-- +goose Up
-- Nothing here: on SQLite the register's table of kiosks is named
-- enrolled_kiosks from 00001_base.sql on, since the register shares
-- hub.db with the records and their own table kiosks; a kiosks.db of the
-- register's own made before is renamed by OpenFile (open.go). The step
-- keeps the numbers of the two engines aligned
-- (migrations/postgres/00003_enrolled_kiosks.sql).
SELECT 1;
