// Package records is the hub's storage: every entry the hub has received,
// keyed by (kiosk, sequence), and per kiosk how far it holds an unbroken run
// of sequence numbers and which ranges it lacks. It keeps each entry's
// chain hash as computed on receipt, refuses entries whose chain does not
// continue what it holds (ErrChain), and re-walks the chains on demand
// (Verify, `hub verify`).
//
// It runs on two engines with one API and one set of statements
// (hub/sqlstore): a SQLite file (pure Go via modernc.org/sqlite), or a
// PostgreSQL database shared by several hub replicas (the schema
// "records"); Open picks by the DSN. Consumers declare the few methods
// they use as their own interface. records may import protocol,
// hub/sqlstore, internal/clock and internal/storeversion, nothing else of
// ours; any hub package may import it, and the benchmarks and end-to-end
// tests do.
package records
