// Package passes is the hub's side of entry passes: the signing keys
// (init, rotate; private keys in files under the hub's data folder), issuing
// passes one at a time or from a CSV of households, revoking them, marking
// home observation, printing them as QR codes, and producing the two
// downlink payloads kiosks verify with: the key set and the status list.
// Feed publishes those two payloads to every site's kiosks when they
// change (and re-issues the list every few hours), through the hub's
// downlinks.
//
// Its tables are in the hub's SQLite file, hub.db, beside the other
// stores' (OpenShared; passes.db was its own file before, which Open
// still opens for hub/datadir's merge and the tests), or in the schema
// "passes" of a PostgreSQL database (OpenDatabase: one API, one set of
// statements, hub/sqlstore); the
// private signing keys are files in the data folder's keys/ either way.
// passes imports protocol, hub/sqlstore and internal; the hub's parts import it
// (hub/console for the admins' pages, hub/datadir to open it, hub/server
// to run the feed, the hub's commands), and the demo to issue its passes.
package passes

import "time"

// Zone is the zone a pass's days are in, wherever the hub runs: China
// Standard Time, as the console shows them. A pass "until 2026-12-31"
// typed on the command line of a hub whose machine runs on UTC is the
// same pass as one typed in the console.
var Zone = time.FixedZone("CST", 8*3600)
