package records

import (
	"context"
	"fmt"

	"github.com/gatepost/gatepost/hub/sqlstore"
)

// writeTx is a write transaction of the records (a batch, a group of
// them) whose commit is reported only when it is safe to ack: it runs in
// ctx (dialect.writeContext), and its commit reports PostgreSQL's
// warnings (sqlstore.WriteTx).
type writeTx struct {
	*sqlstore.WriteTx
	ctx context.Context
}

// beginWrite begins a write transaction in ctx's write context, which
// the transaction's statements take from its ctx field. Close it when done.
func (s *SQLite) beginWrite(ctx context.Context) (*writeTx, error) {
	ctx, err := s.dialect.writeContext(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := s.write.BeginWrite(ctx)
	if err != nil {
		return nil, err
	}
	return &writeTx{tx, ctx}, nil
}

// commit commits, and returns an error for a commit that must not be
// acked although it may be kept:
//   - one that returned once the write context had ended. On PostgreSQL
//     with a synchronous standby (docs/scale.md), a commit whose wait for
//     the standby is cancelled stays on the primary, and may not be on
//     the standby: a failover would lose it. pgx reports the hub's own
//     cancel as the commit's error; this holds whatever the driver
//     reports. A detached write context never ends.
//   - one during which PostgreSQL warned: a wait for the standby cancelled
//     at the server (pg_cancel_backend, a statement_timeout), which
//     PostgreSQL reports as a success with a WARNING (sqlstore.Unwarned).
//
// The kiosk sends its batch again, and the hub then finds it held
// (TestCommitNotReplicatedIsNotSaved).
func (w *writeTx) commit() error {
	if err := w.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if err := w.ctx.Err(); err != nil {
		return fmt.Errorf("the commit returned after its context ended, so it may not have reached a standby: %w", err)
	}
	return nil
}
