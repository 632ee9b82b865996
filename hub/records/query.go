package records

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// Stored is an entry as the hub holds it. Its JSON form is the protocol
// entry's fields plus "site" and "received".
type Stored struct {
	protocol.Entry
	Site     string    `json:"site"`     // site the batch came from
	Received time.Time `json:"received"` // hub clock when the batch was saved
}

// Query selects stored entries, ordered by kiosk then sequence.
type Query struct {
	Kiosk    string // "" for every kiosk
	AfterSeq uint64 // only entries with a greater sequence
	Limit    int    // at most this many; 0 for no limit
}

const storedColumns = `site, body, received_at`

// Latest returns up to limit entries, the most recently received first.
func (s *SQLite) Latest(ctx context.Context, limit int) ([]Stored, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("latest entries: limit must be 1 or more, got %d", limit)
	}
	rows, err := s.read.Query(ctx, `SELECT `+storedColumns+` FROM entries
		ORDER BY received_at DESC, kiosk, seq DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("latest entries: %w", err)
	}
	list, err := scanStored(rows)
	if err != nil {
		return nil, fmt.Errorf("latest entries: %w", err)
	}
	return list, nil
}

// Entries returns the entries q selects, ordered by kiosk then sequence.
func (s *SQLite) Entries(ctx context.Context, q Query) ([]Stored, error) {
	limit := int64(q.Limit)
	if limit <= 0 {
		limit = math.MaxInt64 // no limit, as both engines take it
	}
	after := clampSeq(q.AfterSeq)
	var rows *sql.Rows
	var err error
	// Two statements rather than "? = '' OR kiosk = ?", which would keep
	// SQLite from seeking on the primary key.
	if q.Kiosk == "" {
		rows, err = s.read.Query(ctx, `SELECT `+storedColumns+` FROM entries
			WHERE seq > ? ORDER BY kiosk, seq LIMIT ?`, after, limit)
	} else {
		rows, err = s.read.Query(ctx, `SELECT `+storedColumns+` FROM entries
			WHERE kiosk = ? AND seq > ? ORDER BY seq LIMIT ?`, q.Kiosk, after, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("query entries: %w", err)
	}
	list, err := scanStored(rows)
	if err != nil {
		return nil, fmt.Errorf("query entries: %w", err)
	}
	return list, nil
}

// scanStored reads rows of storedColumns and closes rows.
func scanStored(rows *sql.Rows) ([]Stored, error) {
	defer rows.Close()
	list := []Stored{}
	for rows.Next() {
		var st Stored
		var body []byte
		var received int64
		if err := rows.Scan(&st.Site, &body, &received); err != nil {
			return nil, err
		}
		// Plain unmarshal, not protocol.DecodeEntry: what is held was valid
		// when stored, and a stricter future rule must not hide it.
		if err := json.Unmarshal(body, &st.Entry); err != nil {
			return nil, fmt.Errorf("stored body: %w", err)
		}
		st.Received = time.Unix(0, received).UTC()
		list = append(list, st)
	}
	return list, rows.Err()
}

// clampSeq maps a sequence onto SQLite's signed integers; none stored is
// greater than math.MaxInt64.
func clampSeq(seq uint64) int64 {
	if seq > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(seq)
}
