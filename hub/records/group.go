package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// Group is what SaveBatches did with one batch of a group: Saved when Err
// is nil, else Err refuses that batch alone (it wraps protocol.ErrInvalid,
// and ErrChain or ErrSeqWindow when those are why) and nothing of it was
// stored.
type Group struct {
	Saved Saved
	Err   error
	// Busy: the batch was left, not saved nor refused, because another
	// transaction (another replica's group) was storing its kiosk's
	// batches (SaveBatchesOrDefer). Nothing of it was stored; save it
	// again.
	Busy bool
}

// SaveBatches stores several batches, from one kiosk or many, in one
// transaction: one commit and one fsync for all of them (group commit).
// Each batch is saved as SaveBatch saves it, in the order given: a batch
// refused (invalid, beyond the sequence window, breaking its chain) is
// refused alone, reported in its Group's Err, and the others are kept.
// Refusing one alone needs it undone alone, after the chain and conflict
// checks that read what the batches before it in the group inserted (only
// the same transaction sees those), so a group with a refused batch is
// saved in savepoints, one per batch, rolled back to for the refused one.
// Refusals are rare (a forged or broken batch), and on PostgreSQL a
// savepoint costs two round trips under the kiosks' locks: there a group
// is saved without them first, and only when a batch of it is refused is
// that transaction rolled back and the group saved again in savepoints.
// SQLite saves in savepoints from the start (dialect.savepointEach).
//
// The results line up with batches and hold only after the commit: each
// Saved's Contiguous and Head are read in the transaction after its own
// batch (and those before it), so two batches of one kiosk in a group get
// results that never go backwards. The error, when not nil, is a failure
// of storage (nothing of any batch is stored; the kiosks send them again)
// or of ctx.
func (s *SQLite) SaveBatches(ctx context.Context, batches []protocol.Batch, received time.Time) ([]Group, error) {
	return s.SaveBatchesOrDefer(ctx, batches, received, nil)
}

// SaveBatchesOrDefer is SaveBatches, but on PostgreSQL a batch that wait
// does not mark is left, Busy in its Group, when another transaction
// holds its kiosk's lock, rather than waited for (lock.go: a group that
// waits for one kiosk holds back all its others). A nil wait marks
// every batch; a group that could lock no kiosk waits for them all. On
// SQLite, whose write lock serializes every change, no batch is left.
func (s *SQLite) SaveBatchesOrDefer(ctx context.Context, batches []protocol.Batch, received time.Time, wait []bool) ([]Group, error) {
	bodies := make([][][]byte, len(batches))
	invalid := make([]error, len(batches))
	for i, b := range batches {
		bodies[i], invalid[i] = canonicalBodies(b)
	}
	out, refused, err := s.saveGroup(ctx, batches, bodies, invalid, wait, received, s.dialect.savepointEach)
	if err == nil && refused {
		out, _, err = s.saveGroup(ctx, batches, bodies, invalid, wait, received, true)
	}
	return out, err
}

// saveGroup saves batches in one transaction, but those invalid refuses
// and those lockGroup leaves (wait as SaveBatchesOrDefer's), each inside
// a savepoint of its own when savepoints is set. Without savepoints, it
// gives up on the first batch refused: refused is set, and the
// transaction is rolled back.
func (s *SQLite) saveGroup(ctx context.Context, batches []protocol.Batch, bodies [][][]byte, invalid []error, wait []bool,
	received time.Time, savepoints bool) (out []Group, refused bool, err error) {
	out = make([]Group, len(batches))
	var valid []protocol.Batch
	var validWait []bool
	for i, b := range batches {
		out[i].Err = invalid[i]
		if out[i].Err == nil {
			valid = append(valid, b)
			validWait = append(validWait, wait == nil || wait[i])
		}
	}
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("save batches: %w", err)
	}
	defer tx.Close()
	ctx = tx.ctx
	q := cachedTx{tx.Tx, s.stmts}
	busy, err := lockGroup(ctx, q, s.dialect, valid, validWait)
	if err != nil {
		return nil, false, fmt.Errorf("save batches: %w", err)
	}
	counts := siteDayCounts{} // the month's counts of the whole group, written once
	for i, b := range batches {
		if out[i].Err != nil {
			continue
		}
		if busy[b.Kiosk] {
			out[i].Busy = true
			continue
		}
		var saved Saved
		var err error
		if savepoints {
			saved, err = s.saveOne(ctx, tx.Tx, q, b, bodies[i], received.UnixNano(), counts)
		} else {
			saved, err = saveBatch(ctx, q, b, bodies[i], received.UnixNano(), s.seqWindow(), counts)
		}
		if errors.Is(err, protocol.ErrInvalid) {
			if !savepoints {
				return nil, true, nil
			}
			out[i].Err = fmt.Errorf("save batch from %s: %w", b.Kiosk, err)
			continue
		}
		if err != nil {
			return nil, false, fmt.Errorf("save batch from %s: %w", b.Kiosk, err)
		}
		out[i].Saved = saved
	}
	if err := counts.write(ctx, q); err != nil {
		return nil, false, fmt.Errorf("save batches: %w", err)
	}
	if err := tx.commit(); err != nil {
		return nil, false, fmt.Errorf("save batches: %w", err)
	}
	s.stmts.prepare(ctx)
	return out, false, nil
}

// saveOne saves one batch of a group inside its own savepoint, rolled
// back when the batch is refused; what it inserted is added to counts
// only when it is kept.
func (s *SQLite) saveOne(ctx context.Context, tx *sql.Tx, q querier, b protocol.Batch, bodies [][]byte, received int64,
	counts siteDayCounts) (Saved, error) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT batch`); err != nil {
		return Saved{}, err
	}
	saved, err := saveBatch(ctx, q, b, bodies, received, s.seqWindow(), counts)
	if err != nil {
		if errors.Is(err, protocol.ErrInvalid) {
			if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO batch`); rerr != nil {
				return Saved{}, fmt.Errorf("undo refused batch: %w", rerr)
			}
			if _, rerr := tx.ExecContext(ctx, `RELEASE batch`); rerr != nil {
				return Saved{}, fmt.Errorf("undo refused batch: %w", rerr)
			}
		}
		return Saved{}, err
	}
	// RELEASE also releases the "adopt" savepoint checkJournal may have
	// opened inside this one.
	if _, err := tx.ExecContext(ctx, `RELEASE batch`); err != nil {
		return Saved{}, err
	}
	return saved, nil
}

// canonicalBodies validates b and encodes each entry in its canonical
// form, the one duplicates are compared in.
func canonicalBodies(b protocol.Batch) ([][]byte, error) {
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("save batch: %w", err)
	}
	bodies := make([][]byte, len(b.Entries))
	for i, e := range b.Entries {
		if e.Seq > math.MaxInt64 {
			return nil, fmt.Errorf("save batch: %w", &protocol.FieldError{
				Field:   fmt.Sprintf("entries[%d].seq", i),
				Problem: fmt.Sprintf("must be at most %d, got %d", int64(math.MaxInt64), e.Seq),
			})
		}
		body, err := protocol.EncodeValidEntry(e) // b.Validate checked it
		if err != nil {
			return nil, fmt.Errorf("save batch: entries[%d]: %w", i, err)
		}
		bodies[i] = body
	}
	return bodies, nil
}
