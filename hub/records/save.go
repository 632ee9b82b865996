package records

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// Saved reports what SaveBatch did with each entry of a batch.
type Saved struct {
	Inserted   int // entries the hub did not hold before
	Duplicates int // entries already held with identical content
	// Conflicts counts entries already held with different content: they
	// were refused and the held entry kept. A conflict means a kiosk lost its
	// journal or someone publishes as that kiosk; callers log it as a
	// security event, naming ConflictSeqs.
	Conflicts    int
	ConflictSeqs []uint64
	// Contiguous is the highest sequence N such that the hub holds all of
	// 1..N for the kiosk, after the batch was saved.
	Contiguous uint64
	// Highest is the highest sequence the hub holds for the kiosk.
	Highest uint64
	// Journal is the id of the kiosk journal whose entries the hub holds
	// ("" while no batch named one).
	Journal string
	// Replaced means the batch came from another journal than the one the
	// hub holds the kiosk's entries of (the kiosk's journal was replaced
	// and numbers from 1 again): nothing of it was stored. Journal,
	// Contiguous and Highest say where the held journal stands, so that
	// the kiosk can renumber its entries after it. Not an error.
	Replaced bool
	// Head is the chain hash of the entry at Contiguous, when HasHead: the
	// ack carries it, so that a replaced journal starts its new chain
	// where the held one ends.
	Head    [32]byte
	HasHead bool
}

// ErrOtherJournal is wrapped by ImportBundle's error for a bundle from
// another journal than the one the hub holds the kiosk's entries of.
var ErrOtherJournal = errors.New("bundle is from another journal of the kiosk than the hub holds")

// SaveBatch stores the entries of b in one transaction, idempotently keyed
// by (kiosk, seq), and advances the kiosk's contiguous sequence.
//
// An entry already held with the same content (compared in the canonical
// protocol.EncodeEntry form) is a duplicate. An entry already held with
// different content is a conflict: it is refused, the held entry is kept,
// and it is counted in the result and on the kiosk's row. Neither is an
// error. An invalid batch, or one with a sequence beyond what SQLite's
// signed integers hold, is refused with an error wrapping
// protocol.ErrInvalid, and nothing changes.
func (s *SQLite) SaveBatch(ctx context.Context, b protocol.Batch, received time.Time) (Saved, error) {
	bodies, err := canonicalBodies(b)
	if err != nil {
		return Saved{}, err
	}

	tx, err := s.beginWrite(ctx)
	if err != nil {
		return Saved{}, fmt.Errorf("save batch: %w", err)
	}
	defer tx.Close()
	ctx = tx.ctx
	q := cachedTx{tx.Tx, s.stmts}
	if err := lockBatches(ctx, q, s.dialect, b); err != nil {
		return Saved{}, fmt.Errorf("save batch from %s: %w", b.Kiosk, err)
	}
	saved, err := saveBatch(ctx, q, b, bodies, received.UnixNano(), s.seqWindow(), nil)
	if err != nil {
		return Saved{}, fmt.Errorf("save batch from %s: %w", b.Kiosk, err)
	}
	if err := tx.commit(); err != nil {
		return Saved{}, fmt.Errorf("save batch from %s: %w", b.Kiosk, err)
	}
	s.stmts.prepare(ctx)
	return saved, nil
}

// saveBatch saves b (validated, bodies its canonical forms) in tx. With
// group nil it adds what it inserted to the month's counts itself; else
// it adds them to group once the batch is saved, for the caller to write
// once for a whole group of batches (SaveBatches).
//
// window > 0 marks a live batch (not an imported bundle): it is refused
// when a sequence lies more than window beyond the highest held
// (checkWindow), and it tells when the kiosk was last seen.
//
// A one-entry batch at rush hour costs five statements here (a group's
// savepoint around them on SQLite, SaveBatches): the kiosk's
// row touched and read in one, the held entries around the batch read in
// one (duplicates, and both ends of the chain), the insert, the
// signature, and the kiosk's row written and read back in one. On
// PostgreSQL each is a round trip made while the kiosk's lock is held.
func saveBatch(ctx context.Context, tx querier, b protocol.Batch, bodies [][]byte, received int64, window uint64,
	group siteDayCounts) (Saved, error) {
	// The kiosk row first: entries reference it.
	row, err := touchKiosk(ctx, tx, b, received, window > 0)
	if err != nil {
		return Saved{}, err
	}
	if window > 0 {
		if err := checkWindow(b, row, window); err != nil {
			return Saved{}, err
		}
	}
	held, adopting, err := checkJournal(ctx, tx, b, &row)
	if err != nil || held.Replaced {
		return held, err
	}
	around, err := readAround(ctx, tx, b)
	if err != nil {
		return Saved{}, err
	}
	links, off := linksFor(ctx, b)
	ins, err := insertEntries(ctx, tx, b, bodies, links, off, received, around)
	if err != nil {
		return Saved{}, err
	}
	saved := ins.saved
	if adopting && saved.Conflicts > 0 {
		return unnamedReplaced(ctx, tx, b.Kiosk)
	}
	if !off {
		if err := checkChain(ctx, tx, b, links, ins.inserted, around); err != nil {
			return Saved{}, err
		}
		if err := keepSig(ctx, tx, b, saved); err != nil {
			return Saved{}, err
		}
	}
	if group != nil {
		group.merge(ins.counts)
	} else if err := ins.counts.write(ctx, tx); err != nil {
		return Saved{}, err
	}
	if err := settleKiosk(ctx, tx, b, &saved, row, ins, around, links, off); err != nil {
		return Saved{}, err
	}
	return saved, nil
}

// insertedEntries is what insertEntries did.
type insertedEntries struct {
	saved    Saved  // Inserted, Duplicates, Conflicts and ConflictSeqs
	inserted []bool // per entry of the batch
	highest  int64  // the highest sequence inserted
	counts   siteDayCounts
}

// insertEntries inserts the entries of b the hub does not hold and tells
// the others apart as duplicates or conflicts. The held entries in b's
// range are read first, in one query, so that only new entries are
// inserted (the write lock is held, so nothing else inserts meanwhile):
// around holds them (readAround).
func insertEntries(ctx context.Context, tx querier, b protocol.Batch, bodies [][]byte, links []link, off bool,
	received int64, around heldAround) (insertedEntries, error) {
	out := insertedEntries{inserted: make([]bool, len(b.Entries)), counts: siteDayCounts{}}
	// Each insert runs without ctx's cancellation: the driver watches a
	// cancellable context with a goroutine per statement, a tenth of the
	// cost of an insert. ctx is checked between inserts instead, and the
	// transaction, begun with ctx, is rolled back when it ends.
	each := context.WithoutCancel(ctx)
	var todo []int // the entries the hub does not hold, in order
	for i, e := range b.Entries {
		seq := int64(e.Seq) // bounded by canonicalBodies
		if h, ok := around.rows[seq]; ok {
			hash := links[i].hash[:]
			if err := out.held(ctx, tx, e, seq, !off && bytes.Equal(h.hash, hash), bodies[i]); err != nil {
				return out, err
			}
			continue
		}
		todo = append(todo, i)
	}
	// The new entries go in a few multi-row statements (insertRows), not
	// one each: a statement's own cost is most of a one-row insert's.
	for len(todo) > 0 {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		n := insertChunk(len(todo))
		chunk := todo[:n]
		todo = todo[n:]
		args := make([]any, 0, n*insertColumns)
		for _, i := range chunk {
			e, l := b.Entries[i], &links[i]
			hash, personal := l.hash[:], l.personal[:]
			if off {
				hash, personal = nil, nil
			}
			args = append(args, e.Kiosk, int64(e.Seq), b.Site, e.ID, e.Time.Format(time.RFC3339Nano), string(e.Kind),
				string(e.Decision), string(bodies[i]), received, e.Unit, hash, l.prev, personal, feverColumn(e.Reasons),
				alertingColumn(e))
		}
		res, err := tx.ExecContext(each, insertRows[n], args...)
		if err != nil {
			return out, fmt.Errorf("insert seq %d..%d: %w", b.Entries[chunk[0]].Seq, b.Entries[chunk[n-1]].Seq, err)
		}
		// Every row goes in: the held ones were read under the lock
		// (SQLite's write lock, the kiosk's advisory lock on PostgreSQL),
		// and a batch's sequences are strictly increasing.
		if got, err := res.RowsAffected(); err != nil || got != int64(n) {
			return out, fmt.Errorf("insert seq %d..%d: %d of %d rows stored (%v): entries of kiosk %s were stored "+
				"by something that does not take the kiosk's lock", b.Entries[chunk[0]].Seq, b.Entries[chunk[n-1]].Seq, got, n, err, b.Kiosk)
		}
		for _, i := range chunk {
			e := b.Entries[i]
			out.inserted[i] = true
			out.saved.Inserted++
			out.highest = max(out.highest, int64(e.Seq))
			out.counts.add(b.Site, e.Time.Format(time.RFC3339Nano), e)
		}
	}
	return out, nil
}

// insertColumns are the columns an entry's row is inserted with.
const insertColumns = 15

// insertSizes are the numbers of rows one insert statement takes: a
// batch's new entries go in the largest that fit, so that the prepared
// statements stay few.
var insertSizes = []int{64, 16, 4, 1}

// insertRows is the insert statement of n rows, for each of insertSizes.
var insertRows = func() map[int]string {
	out := map[int]string{}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", insertColumns), ", ") + ")"
	for _, n := range insertSizes {
		out[n] = `INSERT INTO entries (kiosk, seq, site, id, time, kind, decision, body, received_at, unit, hash, prev, personal, fever, alerting)
		VALUES ` + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") + `
		ON CONFLICT (kiosk, seq) DO NOTHING`
	}
	return out
}()

// insertChunk is how many of left rows the next insert takes.
func insertChunk(left int) int {
	for _, n := range insertSizes {
		if left >= n {
			return n
		}
	}
	return 1
}

// held counts entry e, which the hub holds already, as a duplicate or a
// conflict. sameHash: the hash the hub computed on receipt of the held
// entry is e's, which covers its whole content, so it is the same entry
// (a batch sent again) and its body is not read.
func (out *insertedEntries) held(ctx context.Context, tx querier, e protocol.Entry, seq int64, sameHash bool, body []byte) error {
	same := sameHash
	if !same {
		var err error
		if same, err = sameAsHeld(ctx, tx, e.Kiosk, seq, body); err != nil {
			return err
		}
	}
	if same {
		out.saved.Duplicates++
	} else {
		out.saved.Conflicts++
		out.saved.ConflictSeqs = append(out.saved.ConflictSeqs, e.Seq)
	}
	return nil
}

// heldAround is what the hub held, before a batch was saved, of the
// kiosk's entries from the sequence before the batch's first to the one
// after its last: the batch's own range (a batch sent again, after a lost
// ack or a kiosk's ack timeout while the broker held it, is told apart
// without an insert and a read per entry) and both ends of its chain.
type heldAround struct {
	lo, hi int64 // the range read, both included
	rows   map[int64]heldRow
}

// heldRow is one held entry's hash and prev (nil when it has none).
type heldRow struct{ hash, prev []byte }

// readAround reads the held entries around b, in one query.
func readAround(ctx context.Context, tx querier, b protocol.Batch) (heldAround, error) {
	// Validate made the sequences strictly increasing; canonicalBodies
	// bounded them to int64.
	out := heldAround{lo: int64(b.Entries[0].Seq) - 1, hi: int64(b.Entries[len(b.Entries)-1].Seq), rows: map[int64]heldRow{}}
	if out.hi < math.MaxInt64 {
		out.hi++
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, hash, prev FROM entries WHERE kiosk = ? AND seq BETWEEN ? AND ?`,
		b.Kiosk, out.lo, out.hi)
	if err != nil {
		return out, fmt.Errorf("read held entries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var r heldRow
		if err := rows.Scan(&seq, &r.hash, &r.prev); err != nil {
			return out, fmt.Errorf("read held entries: %w", err)
		}
		out.rows[seq] = r
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("read held entries: %w", err)
	}
	return out, nil
}

// covers reports whether the hub's entry at seq, or its absence, was read.
func (h heldAround) covers(seq int64) bool { return h.lo <= seq && seq <= h.hi }

// kioskRow is what saving a batch reads of its kiosk's row, once, as it
// touches it.
type kioskRow struct {
	contiguous, highest int64
	journal             string
}

// touchKiosk makes sure the kiosk's row exists and returns it. A live
// batch (not an imported bundle) also tells when the kiosk was last seen
// and how far its clock is from ours.
func touchKiosk(ctx context.Context, tx querier, b protocol.Batch, received int64, live bool) (kioskRow, error) {
	var row kioskRow
	if live {
		skew := (received - b.Sent.UnixNano()) / int64(time.Millisecond)
		if err := tx.QueryRowContext(ctx, `
		INSERT INTO kiosks (kiosk, site, last_seen, batches, skew_ms) VALUES (?, ?, ?, 1, ?)
		ON CONFLICT (kiosk) DO UPDATE SET
			site = excluded.site, last_seen = excluded.last_seen, batches = kiosks.batches + 1,
			skew_ms = excluded.skew_ms
		RETURNING contiguous, highest, journal`,
			b.Kiosk, b.Site, received, skew).Scan(&row.contiguous, &row.highest, &row.journal); err != nil {
			return row, fmt.Errorf("update kiosk: %w", err)
		}
		return row, nil
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO kiosks (kiosk, site, last_seen) VALUES (?, ?, 0)
		ON CONFLICT (kiosk) DO NOTHING`, b.Kiosk, b.Site); err != nil {
		return row, fmt.Errorf("update kiosk: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT contiguous, highest, journal FROM kiosks WHERE kiosk = ?`, b.Kiosk).
		Scan(&row.contiguous, &row.highest, &row.journal); err != nil {
		return row, fmt.Errorf("read kiosk: %w", err)
	}
	return row, nil
}

// settleKiosk advances the kiosk's contiguous sequence over what ins
// inserted, records its highest sequence and conflicts, and fills in
// saved's Contiguous, Highest, Journal and Head. row is the kiosk's row as
// the batch found it. Every entry of b is held now (inserted, or held
// before), so the contiguous run is followed through b's sequences and
// the entries read around them in memory first, and only what lies
// beyond is read.
func settleKiosk(ctx context.Context, tx querier, b protocol.Batch, saved *Saved, row kioskRow, ins insertedEntries,
	around heldAround, links []link, off bool) error {
	kiosk := b.Kiosk
	contiguous := row.contiguous
	if saved.Inserted > 0 {
		for {
			next := contiguous + 1
			if _, in := batchIndex(b, next); in {
				contiguous = next
				continue
			}
			if !around.covers(next) {
				var err error
				if contiguous, err = advance(ctx, tx, kiosk, contiguous); err != nil {
					return err
				}
				break
			}
			if _, held := around.rows[next]; !held {
				break // read, and not held: the first gap
			}
			contiguous = next
		}
	}
	if err := tx.QueryRowContext(ctx, `
		UPDATE kiosks SET contiguous = ?, highest = CASE WHEN highest > ? THEN highest ELSE ? END, conflicts = conflicts + ?
		WHERE kiosk = ?
		RETURNING highest, journal`, contiguous, ins.highest, ins.highest, saved.Conflicts, kiosk).
		Scan(&saved.Highest, &saved.Journal); err != nil {
		return fmt.Errorf("update kiosk: %w", err)
	}
	saved.Contiguous = uint64(contiguous)
	if contiguous == 0 {
		return nil
	}
	var head []byte
	switch i, in := batchIndex(b, contiguous); {
	case in && ins.inserted[i]:
		if !off {
			head = links[i].hash[:]
		}
	case around.covers(contiguous):
		head = around.rows[contiguous].hash
	default:
		return readHead(ctx, tx, kiosk, saved)
	}
	if len(head) == 32 {
		saved.Head, saved.HasHead = [32]byte(head), true
	}
	return nil
}

// batchIndex is the index of the entry with sequence seq in b, whose
// sequences increase.
func batchIndex(b protocol.Batch, seq int64) (int, bool) {
	if seq < 1 {
		return 0, false
	}
	return slices.BinarySearchFunc(b.Entries, uint64(seq), func(e protocol.Entry, seq uint64) int { return cmp.Compare(e.Seq, seq) })
}

// advance walks forward from the stored contiguous sequence over held
// sequences and returns the last one before the first gap. Each call reads
// only the entries that became contiguous, plus one.
func advance(ctx context.Context, tx querier, kiosk string, from int64) (int64, error) {
	rows, err := tx.QueryContext(ctx,
		`SELECT seq FROM entries WHERE kiosk = ? AND seq > ? ORDER BY seq`, kiosk, from)
	if err != nil {
		return 0, fmt.Errorf("advance contiguous: %w", err)
	}
	defer rows.Close()
	n := from
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return 0, fmt.Errorf("advance contiguous: %w", err)
		}
		if seq != n+1 {
			break
		}
		n = seq
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("advance contiguous: %w", err)
	}
	return n, nil
}

// sameAsHeld reports whether the entry held at (kiosk, seq) has the
// canonical body given. The held body is re-encoded too, so that a change in
// how this build encodes entries cannot turn duplicates into conflicts.
func sameAsHeld(ctx context.Context, tx querier, kiosk string, seq int64, body []byte) (bool, error) {
	var held []byte
	if err := tx.QueryRowContext(ctx, `SELECT body FROM entries WHERE kiosk = ? AND seq = ?`, kiosk, seq).
		Scan(&held); err != nil {
		return false, fmt.Errorf("read held seq %d: %w", seq, err)
	}
	var e protocol.Entry
	if err := json.Unmarshal(held, &e); err == nil {
		if canon, err := protocol.EncodeEntry(e); err == nil {
			held = canon
		}
	}
	return bytes.Equal(held, body), nil
}

// DefaultSeqWindow is how far beyond the highest sequence held a live
// batch may reach: a gate's busiest months offline, far more than any
// kiosk's backlog, and far less than the 2^63 a forged batch once used to
// leave a gap no kiosk could ever fill.
const DefaultSeqWindow = 1_000_000

// seqWindow is SeqWindow, or DefaultSeqWindow when it is 0.
func (s *SQLite) seqWindow() uint64 {
	if s.SeqWindow == 0 {
		return DefaultSeqWindow
	}
	return s.SeqWindow
}

// ErrSeqWindow is wrapped by SaveBatch's error for a batch holding a
// sequence more than SeqWindow beyond the highest held for its kiosk
// (the error wraps protocol.ErrInvalid too): ingest counts it apart, as a
// security event.
var ErrSeqWindow = errors.New("sequence window")

// checkWindow refuses a batch with a sequence more than window beyond the
// highest the hub holds for its kiosk (row, as the batch found it; an
// unknown kiosk holds none).
func checkWindow(b protocol.Batch, row kioskRow, window uint64) error {
	highest := uint64(max(row.contiguous, row.highest))
	for i, e := range b.Entries {
		if e.Seq > highest && e.Seq-highest > window {
			return fmt.Errorf("%w: %w", ErrSeqWindow, &protocol.FieldError{Field: fmt.Sprintf("entries[%d].seq", i),
				Problem: fmt.Sprintf("%d is more than %d beyond the highest held (%d): refused", e.Seq, window, highest)})
		}
	}
	return nil
}
