// Package retention is the hub's hourly purge: it removes the personal
// details of entries kept longer than their kind's retention (the console store's
// settings, as `hub purge --set` and the console's retention page set
// them) and writes what it removed to the audit log. It runs in the hub
// whether or not anyone opens the console. The rules and the count live
// in hub/operators (PurgeByRetention), shared with `hub purge` and the
// console's preview, so a dry run counts what this purge removes.
//
// retention may import internal/clock, hub/operators and hub/records;
// hub/server runs it, and tests import it.
package retention
