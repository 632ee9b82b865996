// Package operators keeps the console's own state in its own SQLite file
// (console.db beside hub.db): operator accounts with argon2id password
// hashes, sign-in sessions with their CSRF tokens, the audit log of who did
// what, and alerts with their open / acknowledged / closed life.
//
// It is separate from hub/records so that the entries' schema and its
// versioning never change for the console's sake. Imported by hub/console,
// hub/server and the hub's commands.
package operators
