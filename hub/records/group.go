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
}

// SaveBatches stores several batches, from one kiosk or many, in one
// transaction: one commit and one fsync for all of them (group commit).
// Each batch is saved as SaveBatch saves it, in the order given, inside a
// savepoint of its own: a batch refused (invalid, beyond the sequence
// window, breaking its chain) is rolled back to its savepoint alone and
// reported in its Group's Err, and the others are kept. Savepoints rather
// than checking every batch before inserting any: the chain and conflict
// checks read what the batches before it in the group inserted, which only
// the same transaction sees.
//
// The results line up with batches and hold only after the commit: each
// Saved's Contiguous and Head are read in the transaction after its own
// batch (and those before it), so two batches of one kiosk in a group get
// results that never go backwards. The error, when not nil, is a failure
// of storage (nothing of any batch is stored; the kiosks send them again)
// or of ctx.
func (s *SQLite) SaveBatches(ctx context.Context, batches []protocol.Batch, received time.Time) ([]Group, error) {
	out := make([]Group, len(batches))
	bodies := make([][][]byte, len(batches))
	for i, b := range batches {
		bodies[i], out[i].Err = canonicalBodies(b)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("save batches: %w", err)
	}
	defer tx.Rollback()
	var valid []protocol.Batch
	for i, b := range batches {
		if out[i].Err == nil {
			valid = append(valid, b)
		}
	}
	if err := lockBatches(ctx, cachedTx{tx, s.stmts}, s.dialect, valid...); err != nil {
		return nil, fmt.Errorf("save batches: %w", err)
	}
	counts := siteDayCounts{} // the month's counts of the whole group, written once
	for i, b := range batches {
		if out[i].Err != nil {
			continue
		}
		saved, err := s.saveOne(ctx, tx, cachedTx{tx, s.stmts}, b, bodies[i], received.UnixNano(), counts)
		if errors.Is(err, protocol.ErrInvalid) {
			out[i].Err = fmt.Errorf("save batch from %s: %w", b.Kiosk, err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("save batch from %s: %w", b.Kiosk, err)
		}
		out[i].Saved = saved
	}
	if err := counts.write(ctx, cachedTx{tx, s.stmts}); err != nil {
		return nil, fmt.Errorf("save batches: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("save batches: commit: %w", err)
	}
	s.stmts.prepare(ctx)
	return out, nil
}

// saveOne saves one batch of a group inside its own savepoint, rolled
// back when the batch is refused; what it inserted is added to counts
// only when it is kept.
func (s *SQLite) saveOne(ctx context.Context, tx *sql.Tx, q querier, b protocol.Batch, bodies [][]byte, received int64,
	counts siteDayCounts) (Saved, error) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT batch`); err != nil {
		return Saved{}, err
	}
	err := checkWindow(ctx, q, b, s.SeqWindow)
	var saved Saved
	if err == nil {
		saved, err = saveBatch(ctx, q, b, bodies, received, true, counts)
	}
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
