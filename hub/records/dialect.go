package records

import (
	"context"
	"database/sql"

	"github.com/gatepost/gatepost/hub/sqlstore"
)

// dialect is the SQL that differs between the two engines, kept here in
// one place; every other statement is written once, with '?', in SQL both
// take (bound per engine by hub/sqlstore).
type dialect struct {
	engine *sqlstore.Engine
	// purge is Purge's selection per kind (purgeQueries).
	purge map[string]string
	// issued is the downlink's own issue time in its stored body.
	issued string
	// indexedBy names the index a search walks (SQLite's planner, with no
	// statistics, can pick a worse one); PostgreSQL plans by its own.
	indexedBy bool
	// snapshot is the isolation at which a read transaction's statements
	// all see one snapshot: SQLite's read transactions always do (WAL);
	// PostgreSQL's default, read committed, takes one per statement.
	snapshot sql.IsolationLevel
	// lock, when not empty, takes the locks named by an array of numbers,
	// in the array's order, each until the transaction ends (lock.go);
	// SQLite's write lock already serializes every change.
	lock string
	// tryLock takes those of the locks named by an array of numbers that
	// no other transaction holds, without waiting, and returns their
	// numbers (lockGroup).
	tryLock string
	// savepointEach: a group commit saves each batch in a savepoint of
	// its own from the start, rather than first without and again in
	// savepoints only when one batch is refused (SaveBatches). On SQLite
	// a savepoint is no round trip, and a batch's savepoint saves work:
	// each multi-row insert opens a statement journal, which copies every
	// page it changes first, and within a savepoint a page the batch
	// already copied is not copied again (BenchmarkGroupSavepoints). On
	// PostgreSQL each savepoint is two round trips made under the kiosks'
	// locks.
	savepointEach bool
	// detach: a group's statements run detached from the caller's
	// context (writeContext). SQLite's statements run on a local file
	// and end in microseconds, and its driver watches a context that can
	// end with a goroutine of its own per statement, started and woken
	// again when the statement is done: at rush hour several a batch.
	// On PostgreSQL each statement is a round trip on the network, which
	// the context must be able to end.
	detach bool
}

// writeContext is the context a write transaction runs in: ctx, or on
// a detaching engine ctx without its end (its values kept), once ctx is
// found not to have ended. A detached transaction then runs to its end:
// a wait for SQLite's write lock is bounded by busy_timeout alone.
func (d *dialect) writeContext(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil || !d.detach {
		return ctx, err
	}
	return context.WithoutCancel(ctx), nil
}

var sqliteDialect = &dialect{
	engine:        sqlstore.SQLite,
	purge:         purgeQueries,
	issued:        `coalesce(json_extract(body, '$.payload.issued'), json_extract(body, '$.issued'))`,
	indexedBy:     true,
	savepointEach: true,
	detach:        true,
}

var postgresDialect = &dialect{
	engine: sqlstore.Postgres,
	purge: map[string]string{
		"visitor": `kind = 'visitor' AND kind != 'check' AND received_at < ? AND (body::jsonb -> 'visitor' ->> 'name') != '` + Redacted + `'`,
		"check":   `kind = 'check' AND received_at < ? AND (body::jsonb ->> 'scan') IS NOT NULL`,
	},
	issued:   `coalesce(body::jsonb #>> '{payload,issued}', body::jsonb ->> 'issued')`,
	snapshot: sql.LevelRepeatableRead,
	lock:     `SELECT pg_advisory_xact_lock(k) FROM unnest(?::bigint[]) WITH ORDINALITY AS l(k, i) ORDER BY i`,
	tryLock:  `SELECT k FROM unnest(?::bigint[]) AS l(k) WHERE pg_try_advisory_xact_lock(k)`,
}
