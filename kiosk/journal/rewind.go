package journal

import (
	"context"
	"database/sql"
	"fmt"
)

// Rewind lowers the acknowledged position to to, when it is above, and
// returns the position it held before. The uplink calls it when the hub
// keeps acknowledging less than it once did (restored from an older
// backup, or its database failed over to a standby that lacked the last
// commits): "synced" means the hub holds an entry now, as far as the
// kiosk knows, so entries after to are unsynced again. They are sent
// again, kept from retention (Purge deletes only acknowledged entries),
// and copied by `kiosk export`. Entries up to to stay synced.
//
// It is one UPDATE of the state row, in a transaction: after a crash the journal holds
// either the old position or the new one, and sending starts from the
// one it holds. An ack above to marks entries synced again as Ack does.
func (j *Journal) Rewind(ctx context.Context, to uint64) (uint64, error) {
	defer j.begin()()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("rewind journal to %d: %w", to, err)
	}
	defer tx.Rollback()
	var from uint64
	if err := tx.QueryRowContext(ctx, `SELECT acked FROM state`).Scan(&from); err != nil {
		return 0, fmt.Errorf("rewind journal to %d: %w", to, err)
	}
	if from <= to {
		return from, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE state SET acked = ?`, to); err != nil {
		return 0, fmt.Errorf("rewind journal to %d: %w", to, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("rewind journal to %d: %w", to, err)
	}
	j.wrote(1)
	return from, nil
}

// Missing returns the entries after the acknowledged position that this
// journal no longer holds, from..to, or 0, 0 when it holds all of them.
// Only a Rewind makes any: Purge deletes acknowledged entries alone, so
// entries missing after the position were deleted while the hub still
// acknowledged them, and the hub has lost them since.
func (j *Journal) Missing(ctx context.Context) (from, to uint64, err error) {
	var acked, last uint64
	var first sql.NullInt64
	err = j.db.QueryRowContext(ctx, `
		SELECT acked, last_seq, (SELECT min(seq) FROM entries WHERE seq > state.acked) FROM state`).Scan(&acked, &last, &first)
	if err != nil {
		return 0, 0, fmt.Errorf("read missing entries: %w", err)
	}
	end := last
	if first.Valid {
		end = uint64(first.Int64) - 1
	}
	if end <= acked {
		return 0, 0, nil
	}
	return acked + 1, end, nil
}
