-- +goose Up
-- Whether an entry may raise an alert (records.alerting: urgent, or a
-- reason among AlertingReasons), in a column of its own, so that the
-- alert follower reads those entries alone along their index
-- (entries_alerting, made at open with the other search indexes). It read
-- every entry after its cursor and tested each body's text: after an
-- outage, every backlog's bodies once more, an eighth of the hub's CPU.
-- The entries held are flagged by the same textual test, a superset that
-- UrgentSince checks exactly. The step also stops an older hub, which
-- would store entries without the flag: it sees version 5, above the 4
-- it knows, and refuses the file.
ALTER TABLE entries ADD COLUMN alerting INTEGER NOT NULL DEFAULT 0; -- 1: may raise an alert
UPDATE entries SET alerting = 1 WHERE decision = 'alert' OR instr(body, '"alert":true') > 0
	OR instr(body, '"post_understaffed"') > 0 OR instr(body, '"status_list_stale"') > 0;
