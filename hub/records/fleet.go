package records

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
)

// SaveStatus records a kiosk's presence message: online or offline, and
// what it reports about itself. A kiosk not heard of before gets a row.
// A last will (offline) that names another connection than the kiosk's
// latest online message is stale: the broker published it late, after the
// kiosk had reconnected. It changes nothing and SaveStatus reports false.
func (s *SQLite) SaveStatus(ctx context.Context, st protocol.Status, received time.Time) (bool, error) {
	if err := st.Validate(); err != nil {
		return false, fmt.Errorf("save status: %w", err)
	}
	versions, err := json.Marshal(st.Downlink)
	if err != nil || st.Downlink == nil {
		versions = []byte("{}")
	}
	res, err := s.write.Exec(ctx, `
		INSERT INTO kiosks (kiosk, site, last_seen, online, status_at, reported_unsynced, disk_low, write_failures, downlink, session)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (kiosk) DO UPDATE SET site = excluded.site, online = excluded.online,
			status_at = excluded.status_at,
			reported_unsynced = CASE WHEN excluded.online != 0 THEN excluded.reported_unsynced ELSE kiosks.reported_unsynced END,
			disk_low = CASE WHEN excluded.online != 0 THEN excluded.disk_low ELSE kiosks.disk_low END,
			write_failures = CASE WHEN excluded.online != 0 THEN excluded.write_failures ELSE kiosks.write_failures END,
			downlink = CASE WHEN excluded.online != 0 THEN excluded.downlink ELSE kiosks.downlink END,
			session = CASE WHEN excluded.online != 0 THEN excluded.session ELSE kiosks.session END
		WHERE excluded.online != 0 OR excluded.session = '' OR kiosks.session = '' OR kiosks.session = excluded.session`,
		st.Kiosk, st.Site, received.UnixNano(), flag(st.Online), received.UnixNano(), int64(st.Unsynced), flag(st.DiskLow),
		int64(st.Failures), string(versions), st.Session)
	if err != nil {
		return false, fmt.Errorf("save status of %s: %w", st.Kiosk, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("save status of %s: %w", st.Kiosk, err)
	}
	return n == 1, nil
}

// IssueDownlink stores a new downlink message of kind for site (kiosk "")
// or one kiosk, numbered one above the highest version of that kind the
// site has had in either scope, and returns it ready to publish.
func (s *SQLite) IssueDownlink(ctx context.Context, site, kiosk string, kind protocol.DownlinkKind,
	payload json.RawMessage, issued time.Time) (protocol.Downlink, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return protocol.Downlink{}, fmt.Errorf("issue downlink: %w", err)
	}
	defer tx.Close()
	ctx = tx.ctx
	q := cachedTx{tx.Tx, s.stmts}
	if err := lockKeys(ctx, q, s.dialect, []int64{lockKey("downlinks", site, string(kind))}); err != nil {
		return protocol.Downlink{}, fmt.Errorf("issue downlink: %w", err)
	}
	var last int64
	if err := q.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM downlinks WHERE site = ? AND kind = ?`,
		site, string(kind)).Scan(&last); err != nil {
		return protocol.Downlink{}, fmt.Errorf("issue downlink: %w", err)
	}
	d := protocol.Downlink{Kind: kind, Site: site, Kiosk: kiosk, Version: uint64(last) + 1, Issued: issued.UTC(), Payload: payload}
	body, err := protocol.EncodeDownlink(d)
	if err != nil {
		return protocol.Downlink{}, fmt.Errorf("issue downlink: %w", err)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO downlinks (site, kiosk, kind, version, body) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (site, kiosk, kind) DO UPDATE SET version = excluded.version, body = excluded.body`,
		site, kiosk, string(kind), int64(d.Version), string(body)); err != nil {
		return protocol.Downlink{}, fmt.Errorf("issue downlink: %w", err)
	}
	if err := tx.commit(); err != nil {
		return protocol.Downlink{}, fmt.Errorf("issue downlink: %w", err)
	}
	return d, nil
}

// Downlinks returns the latest downlink of each (site, kiosk, kind): what
// the hub republishes (retained) when it connects, since a broker may
// have lost its retained messages.
func (s *SQLite) Downlinks(ctx context.Context) ([]protocol.Downlink, error) {
	rows, err := s.read.Query(ctx, `SELECT body FROM downlinks ORDER BY site, kiosk, kind`)
	if err != nil {
		return nil, fmt.Errorf("list downlinks: %w", err)
	}
	defer rows.Close()
	var out []protocol.Downlink
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("list downlinks: %w", err)
		}
		d, err := protocol.DecodeDownlink(body)
		if err != nil {
			return nil, fmt.Errorf("list downlinks: stored message is damaged: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ImportBundle stores the entries of an export bundle with the same
// idempotence and bookkeeping as live batches (chunks of at most
// MaxBatchEntries, one transaction each), but without touching the
// kiosk's last-seen time or clock skew. Importing a bundle twice changes
// nothing the second time.
func (s *SQLite) ImportBundle(ctx context.Context, b protocol.Bundle) (Saved, error) {
	if err := b.Validate(); err != nil {
		return Saved{}, fmt.Errorf("import: %w", err)
	}
	// The whole bundle's chain first, so that an edited bundle is refused
	// whole, not after its first chunks were stored.
	if err := bundleChain(b); err != nil {
		return Saved{}, fmt.Errorf("import: %w", err)
	}
	var total Saved
	for start := 0; start < len(b.Entries); start += protocol.MaxBatchEntries {
		chunk := b.Entries[start:min(start+protocol.MaxBatchEntries, len(b.Entries))]
		batch := protocol.Batch{Kiosk: b.Kiosk, Site: b.Site, Journal: b.Journal, Sent: b.Exported, Entries: chunk}
		bodies := make([][]byte, len(chunk))
		for i, e := range chunk {
			if e.Seq > math.MaxInt64 {
				return total, fmt.Errorf("import: %w: seq %d is beyond what the hub stores", protocol.ErrInvalid, e.Seq)
			}
			body, err := protocol.EncodeEntry(e)
			if err != nil {
				return total, fmt.Errorf("import: %w", err)
			}
			bodies[i] = body
		}
		saved, err := s.inTx(ctx, func(tx querier) (Saved, error) {
			if err := lockBatches(ctx, tx, s.dialect, batch); err != nil {
				return Saved{}, err
			}
			saved, err := saveBatch(ctx, tx, batch, bodies, clock.Or(s.Clock).Now().UnixNano(), 0, nil)
			if err == nil && saved.Replaced {
				// An error, so that the transaction changes nothing.
				return saved, fmt.Errorf("%w: the bundle is from journal %s, the hub holds entries up to %d of journal %s. "+
					"The kiosk's journal was replaced after the hub's entries were made; once the kiosk is online it "+
					"renumbers its entries after %d by itself and sends them, and a new export then matches",
					ErrOtherJournal, b.Journal, saved.Highest, saved.Journal, saved.Highest)
			}
			return saved, err
		})
		if err != nil {
			return total, fmt.Errorf("import %s %d..%d: %w", b.Kiosk, chunk[0].Seq, chunk[len(chunk)-1].Seq, err)
		}
		total.Inserted += saved.Inserted
		total.Duplicates += saved.Duplicates
		total.Conflicts += saved.Conflicts
		total.ConflictSeqs = append(total.ConflictSeqs, saved.ConflictSeqs...)
		total.Contiguous, total.Highest, total.Journal = saved.Contiguous, saved.Highest, saved.Journal
	}
	return total, nil
}

func (s *SQLite) inTx(ctx context.Context, f func(querier) (Saved, error)) (Saved, error) {
	tx, err := s.beginWrite(ctx)
	if err != nil {
		return Saved{}, err
	}
	defer tx.Close()
	saved, err := f(cachedTx{tx.Tx, s.stmts})
	if err != nil {
		return Saved{}, err
	}
	return saved, tx.commit()
}

// flag is b as the 0 or 1 the tables keep booleans as: PostgreSQL
// converts no bool to an integer column.
func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
