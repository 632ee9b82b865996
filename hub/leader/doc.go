// Package leader runs work that must run once across hub replicas (the
// alert follower, the retention purge, the pass feed, the scheduled
// chain verification) on the one replica that holds a named lease, and
// moves it to another within seconds when that one dies or loses its
// database.
//
// A Runner asks an Elector for the lease, runs the job while it holds
// it, cancels the job's context as soon as the lease is lost, and asks
// again. Two electors: Postgres, a session-level advisory lock on a
// dedicated connection per job (the lock ends with the session, so a
// killed process lets go of it at once), checked by a heartbeat; and
// Alone, for one hub on SQLite, which always leads.
//
// leader imports internal/clock only of ours; hub/server imports it.
package leader
