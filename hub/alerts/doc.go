// Package alerts is the hub's alert engine: the follower that reads the
// entries received since its cursor and the fleet's state, and raises
// alerts into the console store (hub/operators) for a person to look at: a
// confirmed fever, a forged or revoked pass, a kiosk offline, a clock off,
// a sync gap, refused conflicting entries, a status list behind or too
// old, messages the hub's ingest refused as security events (Refusals).
// It runs in the hub whether or not anyone opens the console; the
// console only reads the alerts, and, when it has live viewers, is handed
// each entry and new alert as a Watcher.
//
// alerts may import protocol, internal/clock, hub/records and
// hub/operators; hub/server runs it, and tests import it.
package alerts
