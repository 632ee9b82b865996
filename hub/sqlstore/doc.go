// Package sqlstore is what the hub's stores share to run on two engines,
// SQLite and PostgreSQL: opening a database of either kind, placeholders
// written once as '?' and bound for the engine, transactions, and
// versioned migrations with goose (one folder of numbered SQL files per
// engine, PostgreSQL's advisory lock or a flock on the data folder so
// that processes starting together migrate once, a file made before the
// store used goose adopted, a database from a newer hub refused, and
// each store's own goose table when stores share one SQLite file:
// Spec.Table, Spec.Shared).
//
// The stores (hub/registry, hub/records, hub/operators, hub/passes) import
// it; it imports internal/clock-free standard packages, goose and the two
// drivers, and none of ours.
package sqlstore
