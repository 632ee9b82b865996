-- +goose Up
-- Nothing on SQLite: the same step number as PostgreSQL's extra index for
-- one gate and one kind (migrations/postgres/00002_gate_kind_index.sql).
-- SQLite's search names the gate's index (INDEXED BY), whose plan is
-- already a backward walk with no sort, and every index costs ingest.
SELECT 1;
