package journal

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// ErrRebaseUnsafe means the journal cannot be renumbered after another
// journal's entries: the hub has acknowledged entries of this journal
// before, so they are numbered in the hub's sequence already.
var ErrRebaseUnsafe = errors.New("journal was acknowledged before; it cannot be renumbered")

// Rebased reports what Rebase did.
type Rebased struct {
	Entries int    // entries renumbered
	From    uint64 // the first entry's new sequence (0 if none)
	LastSeq uint64 // the journal's last sequence afterwards
}

// Rebase renumbers a journal that replaced an earlier one of the same
// kiosk (a new card, `kiosk init` again) to follow the entries the hub
// holds from that earlier journal: every entry's sequence goes up by
// highest, the hub's highest held sequence, which is also its contiguous
// one (the caller checks there are no gaps). The journal then counts
// 1..highest as acknowledged, continues numbering after its last entry,
// and takes the hub's journal id as its own, so the hub's acks apply.
//
// Entry ids, times and contents stay; each stored body is written again
// with its new sequence, since the body holds it. Downlinks and
// calibrations do not depend on sequences and are left as they are.
//
// It is one transaction: all of it happens or none. A journal the hub has
// acknowledged before (acked > 0) is refused with ErrRebaseUnsafe and
// left unchanged.
//
// head is the chain hash of the hub's entry at highest (protocol.Ack's
// Head): the renumbered entries form a new chain that starts from it, so
// that it names where the old journal's chain ended. Genesis when the
// hub gave none (a hub that predates the chain).
func (j *Journal) Rebase(ctx context.Context, journal string, highest uint64, head [32]byte) (Rebased, error) {
	if !protocol.ValidName(journal) {
		return Rebased{}, fmt.Errorf("rebase journal: %q is not a journal id", journal)
	}
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return Rebased{}, fmt.Errorf("rebase journal: %w", err)
	}
	defer tx.Rollback()
	var last, acked uint64
	if err := tx.QueryRowContext(ctx, `SELECT last_seq, acked FROM state`).Scan(&last, &acked); err != nil {
		return Rebased{}, fmt.Errorf("rebase journal: %w", err)
	}
	if acked > 0 {
		return Rebased{}, fmt.Errorf("%w: the hub holds 1..%d of it", ErrRebaseUnsafe, acked)
	}
	if highest > math.MaxInt64-last {
		return Rebased{}, fmt.Errorf("rebase journal: %d entries after %d is beyond what SQLite stores", last, highest)
	}
	// From the highest sequence down: each entry moves above every entry
	// not moved yet, so no two rows ever share a sequence.
	rows, err := tx.QueryContext(ctx, `SELECT seq, body FROM entries ORDER BY seq DESC`)
	if err != nil {
		return Rebased{}, fmt.Errorf("rebase journal: %w", err)
	}
	var all []rebaseRow
	for rows.Next() {
		var r rebaseRow
		if err := rows.Scan(&r.seq, &r.body); err != nil {
			rows.Close()
			return Rebased{}, fmt.Errorf("rebase journal: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Rebased{}, fmt.Errorf("rebase journal: %w", err)
	}
	bodies, hashes, head, err := rechain(all, highest, head)
	if err != nil {
		return Rebased{}, fmt.Errorf("rebase journal: %w", err)
	}
	update, err := tx.PrepareContext(ctx, `UPDATE entries SET seq = ?, body = ?, hash = ? WHERE seq = ?`)
	if err != nil {
		return Rebased{}, fmt.Errorf("rebase journal: %w", err)
	}
	defer update.Close()
	for i, r := range all {
		if _, err := update.ExecContext(ctx, r.seq+highest, bodies[i], hashes[i][:], r.seq); err != nil {
			return Rebased{}, fmt.Errorf("rebase journal: entry %d to %d: %w", r.seq, r.seq+highest, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE state SET last_seq = ?, acked = ?, acked_at = ?, journal = ?, head = ?`,
		last+highest, highest, j.clock.Now().UTC().Format(time.RFC3339Nano), journal, head[:]); err != nil {
		return Rebased{}, fmt.Errorf("rebase journal: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Rebased{}, fmt.Errorf("rebase journal: commit: %w", err)
	}
	j.mu.Lock()
	j.id = journal
	j.mu.Unlock()
	j.wrote(len(all) + 1)
	out := Rebased{Entries: len(all), LastSeq: last + highest}
	if len(all) > 0 {
		out.From = all[len(all)-1].seq + highest
	}
	return out, nil
}

// rebaseRow is an entry as Rebase reads it, newest first.
type rebaseRow struct {
	seq  uint64
	body []byte
}

// rechain renumbers the entries of all (newest first) after highest and
// chains them from head, oldest first: it returns each one's new body and
// hash, in the order of all, and the new head.
func rechain(all []rebaseRow, highest uint64, head [32]byte) ([][]byte, [][32]byte, [32]byte, error) {
	bodies := make([][]byte, len(all))
	hashes := make([][32]byte, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		r := all[i]
		e, err := protocol.DecodeEntry(r.body)
		if err != nil {
			return nil, nil, head, fmt.Errorf("stored entry %d is damaged: %w", r.seq, err)
		}
		e.Seq, e.Prev = r.seq+highest, protocol.HashText(head)
		if bodies[i], err = protocol.EncodeEntry(e); err != nil {
			return nil, nil, head, fmt.Errorf("entry %d: %w", r.seq, err)
		}
		head = protocol.EntryHash(head, e)
		hashes[i] = head
	}
	return bodies, hashes, head, nil
}
