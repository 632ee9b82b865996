package records

import (
	"context"
	"fmt"

	"github.com/gatepost/gatepost/protocol"
	"github.com/google/uuid"
)

// checkJournal compares the journal a batch names with the one the hub
// holds the kiosk's entries of. A batch naming none (a kiosk from before
// journal ids) is taken as before. The first batch naming one is adopted:
// the kiosk row (row, as the batch found it) takes its id, and adopting
// reports that the hub held entries before under no name, which the
// caller then checks the batch against. A batch from another journal gets a result with Replaced set
// and the held journal's position, and must store nothing.
func checkJournal(ctx context.Context, tx querier, b protocol.Batch, row *kioskRow) (held Saved, adopting bool, err error) {
	if b.Journal == "" {
		return Saved{}, false, nil
	}
	held.Journal, held.Contiguous, held.Highest = row.journal, uint64(row.contiguous), uint64(row.highest)
	switch held.Journal {
	case b.Journal:
		return Saved{}, false, nil
	case "":
		if _, err := tx.ExecContext(ctx, `UPDATE kiosks SET journal = ? WHERE kiosk = ?`, b.Journal, b.Kiosk); err != nil {
			return Saved{}, false, fmt.Errorf("adopt kiosk journal: %w", err)
		}
		row.journal = b.Journal
		// Entries held from before journals had names may be this
		// journal's or a replaced one's: the batch's conflicts tell.
		if _, err := tx.ExecContext(ctx, `SAVEPOINT adopt`); err != nil {
			return Saved{}, false, fmt.Errorf("adopt kiosk journal: %w", err)
		}
		return Saved{}, held.Highest > 0, nil
	}
	held.Replaced = true
	return held, false, readHead(ctx, tx, b.Kiosk, &held)
}

// readHead fills in held's Head: the hash of the entry at its Contiguous,
// if the hub holds one with a hash.
func readHead(ctx context.Context, tx querier, kiosk string, held *Saved) error {
	if held.Contiguous == 0 {
		return nil
	}
	head, err := heldColumn(ctx, tx, "hash", kiosk, held.Contiguous)
	if err != nil {
		return err
	}
	if len(head) == 32 {
		held.Head, held.HasHead = [32]byte(head), true
	}
	return nil
}

// unnamedReplaced undoes a batch that conflicted with entries the hub
// held under no journal id: those came from an earlier journal, not the
// batch's. They get a journal id of their own, so that the kiosk, told
// so in the ack, can renumber its entries after them.
func unnamedReplaced(ctx context.Context, tx querier, kiosk string) (Saved, error) {
	if _, err := tx.ExecContext(ctx, `ROLLBACK TO adopt`); err != nil {
		return Saved{}, fmt.Errorf("undo batch of a replaced journal: %w", err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Saved{}, fmt.Errorf("name held journal: %w", err)
	}
	held := Saved{Replaced: true, Journal: id.String()}
	if _, err := tx.ExecContext(ctx, `UPDATE kiosks SET journal = ? WHERE kiosk = ?`, held.Journal, kiosk); err != nil {
		return Saved{}, fmt.Errorf("name held journal: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT contiguous, highest FROM kiosks WHERE kiosk = ?`, kiosk).
		Scan(&held.Contiguous, &held.Highest); err != nil {
		return Saved{}, fmt.Errorf("read kiosk: %w", err)
	}
	return held, readHead(ctx, tx, kiosk, &held)
}
