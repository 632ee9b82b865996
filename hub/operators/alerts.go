package operators

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/sqlstore"
)

// Alert states.
const (
	StateOpen   = "open"
	StateAcked  = "acked"
	StateClosed = "closed"
)

// Alert is something a named person must look at: raised from an entry
// (fever, a revoked or forged pass, ...) or from the fleet.
type Alert struct {
	ID      int64
	Key     string // what raised it; raising the same key twice is one alert
	Kind    string
	Site    string
	Kiosk   string
	Detail  string
	Raised  time.Time
	State   string
	By      string
	Note    string
	Updated time.Time
}

// alertColumns are an Alert's, in scanAlerts' order.
const alertColumns = `id, key, kind, site, kiosk, detail, raised, state, "by", note, updated`

// ErrNoAlert means no alert has that id, or it cannot move that way.
var ErrNoAlert = errors.New("no such alert in that state")

// MaxNote bounds a disposition note.
const MaxNote = 2000

// Raise stores an open alert unless one with the same key exists, and
// reports whether it was new: also with an error wrapping
// sqlstore.ErrUnreplicated, when PostgreSQL kept it on the primary.
func (s *Store) Raise(ctx context.Context, a Alert) (bool, error) {
	if a.Raised.IsZero() {
		a.Raised = s.clock.Now()
	}
	res, err := s.db.Exec(ctx, `INSERT INTO alerts (key, kind, site, kiosk, detail, raised, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
		a.Key, a.Kind, a.Site, a.Kiosk, a.Detail, a.Raised.UnixNano(), a.Raised.UnixNano())
	if err != nil {
		// A change PostgreSQL warned about is kept on the primary: say
		// whether it was new, so the live view is told of it once, and
		// the error, so that the caller does it again.
		isNew := false
		if errors.Is(err, sqlstore.ErrUnreplicated) && res != nil {
			n, _ := res.RowsAffected()
			isNew = n == 1
		}
		return isNew, fmt.Errorf("raise alert %s: %w", a.Key, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Move acknowledges (to StateAcked) or closes (to StateClosed) an alert,
// with the user's note. Closing needs a note: it is the disposition.
func (s *Store) Move(ctx context.Context, id int64, to, user, note string) error {
	note = strings.TrimSpace(note)
	if len(note) > MaxNote {
		return fmt.Errorf("the note is longer than %d characters", MaxNote)
	}
	var from string
	switch to {
	case StateAcked:
		from = `state = 'open'`
	case StateClosed:
		if note == "" {
			return errors.New("closing an alert needs a note saying what was done")
		}
		from = `state IN ('open', 'acked')`
	default:
		return fmt.Errorf("unknown alert state %q", to)
	}
	res, err := s.db.Exec(ctx, `UPDATE alerts SET state = ?, "by" = ?, note = ?, updated = ? WHERE id = ? AND `+from,
		to, user, note, s.clock.Now().UnixNano(), id)
	if err != nil {
		return fmt.Errorf("move alert %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNoAlert
	}
	return nil
}

// Alerts lists alerts in the given states (all when none), newest first.
func (s *Store) Alerts(ctx context.Context, limit int, states ...string) ([]Alert, error) {
	return s.AlertsIn(ctx, nil, limit, states...)
}

// AlertsIn lists the alerts of compounds sites (every compound when nil)
// in the given states (all when none), newest first.
func (s *Store) AlertsIn(ctx context.Context, sites []string, limit int, states ...string) ([]Alert, error) {
	q := `SELECT ` + alertColumns + ` FROM alerts`
	var conds []string
	var args []any
	in := func(col string, vals []string) {
		conds = append(conds, col+` IN (?`+strings.Repeat(",?", len(vals)-1)+`)`)
		for _, v := range vals {
			args = append(args, v)
		}
	}
	if len(states) > 0 {
		in("state", states)
	}
	if sites != nil {
		if len(sites) == 0 {
			return nil, nil
		}
		in("site", sites)
	}
	if len(conds) > 0 {
		q += ` WHERE ` + strings.Join(conds, " AND ")
	}
	q += ` ORDER BY raised DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	out, err := scanAlerts(rows)
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	return out, nil
}

// scanAlerts reads rows of alertColumns and closes them.
func scanAlerts(rows *sql.Rows) ([]Alert, error) {
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		var a Alert
		var raised, updated int64
		if err := rows.Scan(&a.ID, &a.Key, &a.Kind, &a.Site, &a.Kiosk, &a.Detail, &raised, &a.State, &a.By, &a.Note, &updated); err != nil {
			return nil, err
		}
		a.Raised, a.Updated = time.Unix(0, raised).UTC(), time.Unix(0, updated).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// AlertsAfter lists up to limit alerts with ids above after, oldest
// first: a replica's live view follows the alerts another replica raised
// with it, and ids only grow.
func (s *Store) AlertsAfter(ctx context.Context, after int64, limit int) ([]Alert, error) {
	rows, err := s.db.Query(ctx, `SELECT `+alertColumns+` FROM alerts
		WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list alerts after %d: %w", after, err)
	}
	out, err := scanAlerts(rows)
	if err != nil {
		return nil, fmt.Errorf("list alerts after %d: %w", after, err)
	}
	return out, nil
}

// LastAlertID is the highest alert id, 0 for none: where a live view
// that starts now begins.
func (s *Store) LastAlertID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.db.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM alerts`).Scan(&id); err != nil {
		return 0, fmt.Errorf("read the last alert id: %w", err)
	}
	return id, nil
}

// Alert returns one alert.
func (s *Store) Alert(ctx context.Context, id int64) (Alert, error) {
	var a Alert
	var raised, updated int64
	err := s.db.QueryRow(ctx, `SELECT id, key, kind, site, kiosk, detail, raised, state, "by", note, updated
		FROM alerts WHERE id = ?`, id).
		Scan(&a.ID, &a.Key, &a.Kind, &a.Site, &a.Kiosk, &a.Detail, &raised, &a.State, &a.By, &a.Note, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Alert{}, ErrNoAlert
	}
	if err != nil {
		return Alert{}, fmt.Errorf("read alert %d: %w", id, err)
	}
	a.Raised, a.Updated = time.Unix(0, raised).UTC(), time.Unix(0, updated).UTC()
	return a, nil
}
