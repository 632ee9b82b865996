-- The console's sign-in lockout (hub/console, lockout.go) counts failed
-- sign-ins here rather than in one hub's memory, so that hubs sharing one
-- database (replicas behind a load balancer) count the same failures: a
-- guesser gains nothing by being sent to another replica.

-- +goose Up
CREATE TABLE sign_in_failures (
	key TEXT    NOT NULL, -- sha256, hex, of "ip:" and the address, "user:" and the name, or "dev:" and the device cookie
	at  INTEGER NOT NULL  -- unix ns
);
CREATE INDEX sign_in_failures_by_key ON sign_in_failures (key, at);
CREATE TABLE sign_in_slowed (
	name  TEXT    NOT NULL PRIMARY KEY, -- a user name slowed to one checked try per interval
	tried INTEGER NOT NULL  -- unix ns of its last checked try
);
