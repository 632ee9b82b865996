-- +goose Up
-- Nothing on PostgreSQL: the same step number as SQLite's, where hub.db
-- took in the hub's other stores (migrations/sqlite/00004_one_file.sql).
-- Each store keeps its own schema here, as before; the step keeps the two
-- engines' versions aligned.
SELECT 1;
