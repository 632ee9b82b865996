package records

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
)

// Redacted replaces a visitor's name once their details are past
// retention: the entry stays (sequence bookkeeping, the one map's counts),
// the person does not.
const Redacted = "—"

// Purgeable kinds and what purging removes from them:
//
//	visitor  the visitor's name, phone, where from and purpose (the unit
//	         visited and the returnee region stay for the one map)
//	check    the scanned text (a pass token carries a masked name); the
//	         pass id and unit stay
//
// The visitor query repeats the kind index's partial WHERE so that SQLite
// may use it (search.go); checks, most entries, walk the receipt index.
// These are SQLite's; PostgreSQL's read the same fields (dialect.go).
var purgeQueries = map[string]string{
	"visitor": `kind = 'visitor' AND kind != 'check' AND received_at < ? AND json_extract(body, '$.visitor.name') != '` + Redacted + `'`,
	"check":   `kind = 'check' AND received_at < ? AND json_extract(body, '$.scan') IS NOT NULL`,
}

// PurgeKinds lists the kinds Purge knows.
var PurgeKinds = []string{"check", "visitor"}

// Purge removes the personal details of kind's entries received before
// cutoff and returns how many entries it changed (or, with dryRun, would
// change). It works in chunks of a thousand, one transaction each, so
// ingest waits at most one chunk.
func (s *SQLite) Purge(ctx context.Context, kind string, cutoff time.Time, dryRun bool) (int, error) {
	where, ok := s.dialect.purge[kind]
	if !ok {
		return 0, fmt.Errorf("purge: kind must be one of %v, got %q", PurgeKinds, kind)
	}
	if dryRun {
		var n int
		err := s.read.QueryRow(ctx, `SELECT count(*) FROM entries WHERE `+where, cutoff.UnixNano()).Scan(&n)
		if err != nil {
			return 0, fmt.Errorf("purge %s: %w", kind, err)
		}
		return n, nil
	}
	total := 0
	for {
		n, err := s.purgeChunk(ctx, where, cutoff)
		total += n
		if err != nil {
			return total, fmt.Errorf("purge %s: %w", kind, err)
		}
		if n == 0 {
			return total, nil
		}
	}
}

func (s *SQLite) purgeChunk(ctx context.Context, where string, cutoff time.Time) (int, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	q := cachedTx{tx, s.stmts}
	rows, err := q.QueryContext(ctx, `SELECT kiosk, seq, body FROM entries WHERE `+where+` LIMIT 1000`, cutoff.UnixNano())
	if err != nil {
		return 0, err
	}
	type change struct {
		kiosk string
		seq   int64
		body  []byte
	}
	var changes []change
	for rows.Next() {
		var c change
		var body []byte
		if err := rows.Scan(&c.kiosk, &c.seq, &body); err != nil {
			rows.Close()
			return 0, err
		}
		var st Stored
		if err := unmarshalBody(body, &st); err != nil {
			rows.Close()
			return 0, err
		}
		st.Entry.Scan = ""
		if v := st.Entry.Visitor; v != nil {
			v.Name, v.Contact, v.From, v.Purpose = Redacted, "", "", ""
		}
		if c.body, err = json.Marshal(st.Entry); err != nil {
			rows.Close()
			return 0, err
		}
		changes = append(changes, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	// The hash, prev and personal digest stay: the chain still verifies
	// (Verify uses the kept digest for a row with purged_at set).
	now := clock.Or(s.Clock).Now().UnixNano()
	for _, c := range changes {
		if _, err := q.ExecContext(ctx, `UPDATE entries SET body = ?, purged_at = ? WHERE kiosk = ? AND seq = ?`,
			string(c.body), now, c.kiosk, c.seq); err != nil {
			return 0, err
		}
	}
	return len(changes), tx.Commit()
}
