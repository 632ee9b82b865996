package records

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Kiosk is what the hub knows about one kiosk.
type Kiosk struct {
	Kiosk      string    `json:"kiosk"`
	Site       string    `json:"site"`               // site of its latest batch
	Contiguous uint64    `json:"contiguous"`         // all of 1..Contiguous are held
	Highest    uint64    `json:"highest"`            // highest sequence held
	Journal    string    `json:"journal"`            // id of the kiosk journal held ("" until one is named)
	LastSeen   time.Time `json:"last_seen,omitzero"` // hub clock at its latest live batch; zero if none yet
	Batches    uint64    `json:"batches"`            // batches received, duplicates included
	Conflicts  uint64    `json:"conflicts"`          // entries refused as conflicting
	// SkewMS is the hub's clock minus the kiosk's at its latest batch
	// (transit included); ClockSkewed flags |SkewMS| above the limit.
	SkewMS      int64 `json:"skew_ms"`
	ClockSkewed bool  `json:"clock_skewed"`
	// From the kiosk's retained presence message (or its last will).
	Online           bool              `json:"online"`
	StatusAt         *time.Time        `json:"status_at,omitempty"` // hub clock
	ReportedUnsynced uint64            `json:"reported_unsynced"`
	DiskLow          bool              `json:"disk_low"`
	WriteFailures    uint64            `json:"write_failures"`
	Downlink         map[string]uint64 `json:"downlink"` // versions it runs
}

// DefaultSkewLimit is the clock skew above which a kiosk is flagged: the
// 30 s verifier apps allow.
const DefaultSkewLimit = 30 * time.Second

// Range is an inclusive range of sequence numbers.
type Range struct {
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
}

// Kiosks returns every kiosk the hub has heard from, ordered by id.
func (s *SQLite) Kiosks(ctx context.Context) ([]Kiosk, error) {
	rows, err := s.read.Query(ctx, `SELECT kiosk, site, contiguous, highest, journal, last_seen,
		batches, conflicts, skew_ms, online, status_at, reported_unsynced, disk_low, write_failures, downlink
		FROM kiosks ORDER BY kiosk`)
	if err != nil {
		return nil, fmt.Errorf("list kiosks: %w", err)
	}
	defer rows.Close()
	list := []Kiosk{}
	for rows.Next() {
		var k Kiosk
		var lastSeen, statusAt int64
		var downlink string
		if err := rows.Scan(&k.Kiosk, &k.Site, &k.Contiguous, &k.Highest, &k.Journal, &lastSeen,
			&k.Batches, &k.Conflicts, &k.SkewMS, &k.Online, &statusAt, &k.ReportedUnsynced,
			&k.DiskLow, &k.WriteFailures, &downlink); err != nil {
			return nil, fmt.Errorf("list kiosks: %w", err)
		}
		if lastSeen != 0 { // 0: known only from an imported bundle or its presence
			k.LastSeen = time.Unix(0, lastSeen).UTC()
		}
		if statusAt != 0 {
			t := time.Unix(0, statusAt).UTC()
			k.StatusAt = &t
		}
		limit := s.SkewLimit
		if limit <= 0 {
			limit = DefaultSkewLimit
		}
		k.ClockSkewed = k.Batches > 0 && (time.Duration(k.SkewMS)*time.Millisecond > limit ||
			time.Duration(-k.SkewMS)*time.Millisecond > limit)
		k.Downlink = map[string]uint64{}
		json.Unmarshal([]byte(downlink), &k.Downlink) // written by SaveStatus; {} if unreadable
		list = append(list, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list kiosks: %w", err)
	}
	return list, nil
}

// Contiguous returns the highest N such that the hub holds all of 1..N
// from kiosk; 0 for a kiosk it has never heard from.
func (s *SQLite) Contiguous(ctx context.Context, kiosk string) (uint64, error) {
	var n uint64
	err := s.read.QueryRow(ctx, `SELECT contiguous FROM kiosks WHERE kiosk = ?`, kiosk).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("contiguous of %s: %w", kiosk, err)
	}
	return n, nil
}

// Gaps returns, in order, the ranges of sequence numbers between 1 and the
// highest held that the hub lacks from kiosk. One statement, so it reads a
// consistent snapshot; it looks only above the contiguous sequence.
func (s *SQLite) Gaps(ctx context.Context, kiosk string) ([]Range, error) {
	rows, err := s.read.Query(ctx, `
		WITH start AS (SELECT contiguous AS n FROM kiosks WHERE kiosk = ?),
		held AS (
			SELECT seq, LAG(seq, 1, (SELECT n FROM start)) OVER (ORDER BY seq) AS prev
			FROM entries WHERE kiosk = ? AND seq > (SELECT n FROM start)
		)
		SELECT prev + 1, seq - 1 FROM held WHERE seq > prev + 1 ORDER BY seq`, kiosk, kiosk)
	if err != nil {
		return nil, fmt.Errorf("gaps of %s: %w", kiosk, err)
	}
	defer rows.Close()
	gaps := []Range{}
	for rows.Next() {
		var r Range
		if err := rows.Scan(&r.From, &r.To); err != nil {
			return nil, fmt.Errorf("gaps of %s: %w", kiosk, err)
		}
		gaps = append(gaps, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("gaps of %s: %w", kiosk, err)
	}
	return gaps, nil
}
