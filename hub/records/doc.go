// Package records is the hub's storage: every entry the hub has received,
// keyed by (kiosk, sequence), and per kiosk how far it holds an unbroken run
// of sequence numbers and which ranges it lacks. It keeps each entry's
// chain hash as computed on receipt, refuses entries whose chain does not
// continue what it holds (ErrChain), and re-walks the chains on demand
// (Verify, `hub verify`).
//
// SQLite (one file, pure Go via modernc.org/sqlite) is the engine today; a
// second engine will sit beside it with the same method set, so consumers
// declare the few methods they use as their own interface. records may
// import protocol, internal/clock and internal/storeversion, nothing else
// of ours; any hub package may import it, and the benchmarks and
// end-to-end tests do.
package records
