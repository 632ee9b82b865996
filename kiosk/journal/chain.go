package journal

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/gatepost/gatepost/protocol"
)

// The chain (protocol.EntryHash): Append gives each entry the hash of the
// one before it (Entry.Prev, in its body) and stores its own hash beside
// it; state.head is the hash of the last entry written, kept apart from
// the entries because synced entries are purged. A journal's first entry
// follows protocol.Genesis; a rebased journal's first entry follows the
// hash of the last entry the hub holds of the journal it replaced.

// initChain adds the chain's columns to a journal from before the chain.
// Its head becomes the hash of its last entry as the hub computes it for
// an entry without prev (after Genesis), or Genesis if that entry is gone.
func (j *Journal) initChain() error {
	var has int
	if err := j.db.QueryRow(`SELECT count(*) FROM pragma_table_info('state') WHERE name = 'head'`).Scan(&has); err != nil {
		return err
	}
	if has == 1 {
		return nil
	}
	if _, err := j.db.Exec(`ALTER TABLE entries ADD COLUMN hash BLOB;
		ALTER TABLE state ADD COLUMN head BLOB`); err != nil {
		return fmt.Errorf("add chain columns: %w", err)
	}
	var body []byte
	err := j.db.QueryRow(`SELECT body FROM entries ORDER BY seq DESC LIMIT 1`).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read last entry: %w", err)
	}
	e, err := protocol.DecodeEntry(body)
	if err != nil {
		return nil // a damaged entry: the chain starts from Genesis
	}
	h := protocol.EntryHash(protocol.Genesis, e)
	if _, err := j.db.Exec(`UPDATE state SET head = ?`, h[:]); err != nil {
		return fmt.Errorf("set chain head: %w", err)
	}
	return nil
}

// headOf is the stored head, Genesis when there is none yet.
func headOf(b []byte) [32]byte {
	if len(b) != 32 {
		return protocol.Genesis
	}
	return [32]byte(b)
}

// Head returns the chain hash of the last entry written (protocol.Genesis
// for an empty journal).
func (j *Journal) Head(ctx context.Context) ([32]byte, error) {
	var b []byte
	if err := j.db.QueryRowContext(ctx, `SELECT head FROM state`).Scan(&b); err != nil {
		return [32]byte{}, fmt.Errorf("read chain head: %w", err)
	}
	return headOf(b), nil
}

// EntryHashAt returns the stored chain hash of the entry at seq, and false
// when the journal no longer holds it.
func (j *Journal) EntryHashAt(ctx context.Context, seq uint64) ([32]byte, bool, error) {
	var b []byte
	err := j.db.QueryRowContext(ctx, `SELECT hash FROM entries WHERE seq = ?`, seq).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && len(b) != 32) {
		return [32]byte{}, false, nil
	}
	if err != nil {
		return [32]byte{}, false, fmt.Errorf("read entry hash: %w", err)
	}
	return [32]byte(b), true, nil
}
