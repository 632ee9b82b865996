-- +goose Up
-- Whether an entry may raise an alert (records.alerting: urgent, or a
-- reason among AlertingReasons), in a column of its own with its index,
-- so that the alert follower reads those entries alone. It read every
-- entry after its cursor and tested each body's text: after an outage,
-- every backlog's bodies once more. The entries held are flagged by the
-- same textual test, a superset that UrgentSince checks exactly. An older
-- hub, which would store entries without the flag, sees version 5, above
-- the 4 it knows, and refuses the database.
ALTER TABLE entries ADD COLUMN alerting BIGINT NOT NULL DEFAULT 0; -- 1: may raise an alert
UPDATE entries SET alerting = 1 WHERE decision = 'alert' OR strpos(body, '"alert":true') > 0
	OR strpos(body, '"post_understaffed"') > 0 OR strpos(body, '"status_list_stale"') > 0;
CREATE INDEX entries_alerting ON entries (received_at, kiosk, seq) WHERE alerting = 1;
