// Package operators keeps the console's own state in its own SQLite file
// (console.db beside hub.db): operator accounts with argon2id password
// hashes, sign-in sessions with their CSRF tokens, API tokens, the audit
// log of who did what, alerts with their open / acknowledged / closed
// life, and settings (the retention days, the alert follower's cursor).
// It also holds the retention rules and PurgeByRetention, which `hub
// purge`, the hourly purge and the console's preview share.
//
// It is separate from hub/records so that the entries' schema and its
// versioning never change for the console's sake. operators may import
// internal/clock and internal/storeversion; hub/console, hub/alerts,
// hub/retention, hub/server, the hub's commands and the demo import it.
package operators
