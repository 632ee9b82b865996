// Package operators keeps the console's own state: operator accounts with
// argon2id password hashes, sign-in sessions with their CSRF tokens,
// known devices, the sign-in lockout's counts, API tokens, the audit log
// of who did what, alerts with their open / acknowledged / closed life,
// and settings (the retention days, the alert follower's cursor). It also
// holds the retention rules and PurgeByRetention, which `hub purge`, the
// hourly purge and the console's preview share.
//
// The state lives in the hub's SQLite file, hub.db, beside the other
// stores' tables (OpenShared; console.db was its own file before, which
// Open still opens for hub/datadir's merge and the tests) or in the
// schema "operators" of a PostgreSQL database, which hubs running side by
// side share: a session started on one is valid on the others. The
// tables are made by goose migrations (migrations/sqlite,
// migrations/postgres); a console.db made before goose is adopted.
//
// It is separate from hub/records so that the entries' schema and its
// versioning never change for the console's sake. operators may import
// hub/sqlstore, internal/clock and internal/storeversion; hub/console,
// hub/alerts, hub/retention, hub/server, the hub's commands and the demo
// import it.
package operators
