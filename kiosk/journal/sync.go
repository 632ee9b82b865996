package journal

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// UnsentAlerts returns up to limit alert entries with sequence numbers
// above after, in order: the uplink sends them ahead of the backlog.
func (j *Journal) UnsentAlerts(ctx context.Context, after uint64, limit int) ([]protocol.Entry, error) {
	rows, err := j.db.QueryContext(ctx,
		`SELECT body FROM entries WHERE alert = 1 AND seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read unsent alerts: %w", err)
	}
	defer rows.Close()
	var out []protocol.Entry
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("read unsent alerts: %w", err)
		}
		e, err := protocol.DecodeEntry(body)
		if err != nil {
			return nil, fmt.Errorf("read unsent alerts: stored entry is damaged: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// SaveDownlink stores d as the latest of its kind when its version is
// higher than the one held, and reports whether it did. An older or equal
// version (a retained message seen again, a site-wide message older than
// a kiosk's own) changes nothing.
func (j *Journal) SaveDownlink(ctx context.Context, d protocol.Downlink) (bool, error) {
	body, err := protocol.EncodeDownlink(d)
	if err != nil {
		return false, fmt.Errorf("save downlink: %w", err)
	}
	res, err := j.db.ExecContext(ctx, `
		INSERT INTO downlinks (kind, version, issued, body) VALUES (?, ?, ?, ?)
		ON CONFLICT (kind) DO UPDATE SET version = excluded.version, issued = excluded.issued, body = excluded.body
		WHERE excluded.version > downlinks.version`,
		string(d.Kind), int64(d.Version), d.Issued.UTC().Format(time.RFC3339Nano), body)
	if err != nil {
		return false, fmt.Errorf("save downlink %s v%d: %w", d.Kind, d.Version, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ForgetDownlinks deletes every stored downlink and returns how many
// there were. `kiosk enroll` calls it when the hub's downlink key is new
// to the kiosk: what was stored before was not checked against that key,
// and a forged high version kept would make the hub's own pushes look old.
func (j *Journal) ForgetDownlinks(ctx context.Context) (int64, error) {
	res, err := j.db.ExecContext(ctx, `DELETE FROM downlinks`)
	if err != nil {
		return 0, fmt.Errorf("forget downlinks: %w", err)
	}
	return res.RowsAffected()
}

// Downlink returns the latest stored downlink of kind: its version and
// payload (a JSON object). Version 0 and a nil payload mean none yet.
func (j *Journal) Downlink(ctx context.Context, kind protocol.DownlinkKind) (version uint64, payload json.RawMessage, err error) {
	d, err := j.downlink(ctx, kind)
	if err != nil || d == nil {
		return 0, nil, err
	}
	return d.Version, d.Payload, nil
}

func (j *Journal) downlink(ctx context.Context, kind protocol.DownlinkKind) (*protocol.Downlink, error) {
	var body []byte
	err := j.db.QueryRowContext(ctx, `SELECT body FROM downlinks WHERE kind = ?`, string(kind)).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read downlink %s: %w", kind, err)
	}
	d, err := protocol.DecodeDownlink(body)
	if err != nil {
		return nil, fmt.Errorf("read downlink %s: stored copy is damaged: %w", kind, err)
	}
	return &d, nil
}

// Downlinks returns the version held of each kind (absent: none).
func (j *Journal) Downlinks(ctx context.Context) (map[string]uint64, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT kind, version FROM downlinks`)
	if err != nil {
		return nil, fmt.Errorf("read downlink versions: %w", err)
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var k string
		var v uint64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("read downlink versions: %w", err)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// Purge deletes acknowledged entries whose kiosk time is before cutoff
// and returns how many it deleted. Unacknowledged entries are never
// deleted, whatever their age. The sequence counter lives in the state
// row, so purging never makes a number be used twice.
func (j *Journal) Purge(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := j.db.ExecContext(ctx, `
		DELETE FROM entries WHERE seq <= (SELECT acked FROM state)
		AND julianday(time) < julianday(?)`, cutoff.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return 0, fmt.Errorf("purge journal: %w", err)
	}
	return res.RowsAffected()
}

// Encoded is an entry as the journal stores it: its sequence number, its
// protocol.EncodeEntry form, validated when it was appended, and its
// chain hash (nil for an entry stored before the chain).
type Encoded struct {
	Seq  uint64
	Body []byte
	Hash []byte
}

// Link is e's place in the chain, from its stored hash: what the uplink
// signs (protocol.EncodedLink).
func (e Encoded) Link() (protocol.ChainLink, error) {
	return protocol.EncodedLink(e.Seq, e.Body, e.Hash)
}

// UnsentEncoded is Unsent without decoding: the uplink sends the stored
// bytes as they are (protocol.EncodeBatchOfEncoded).
func (j *Journal) UnsentEncoded(ctx context.Context, after uint64, limit int) ([]Encoded, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT seq, body, hash FROM entries WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read unsent entries: %w", err)
	}
	defer rows.Close()
	var out []Encoded
	for rows.Next() {
		var e Encoded
		if err := rows.Scan(&e.Seq, &e.Body, &e.Hash); err != nil {
			return nil, fmt.Errorf("read unsent entries: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
