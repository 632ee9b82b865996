package passes

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// State is where a pass stands at a moment, as the console lists it. The
// states do not overlap: revoked wins over expired, expired over home
// observation.
type State string

// The states of a pass.
const (
	StateValid           State = "valid"            // opens the gate (or will, from its first day)
	StateRevoked         State = "revoked"          // on the status list for good
	StateHomeObservation State = "home_observation" // the holder must not go out until StatusUntil
	StateExpired         State = "expired"          // past its last valid day
)

// States lists the states in the order filters offer them.
var States = []State{StateValid, StateHomeObservation, StateRevoked, StateExpired}

// State says where p stands at now.
func (p Pass) State(now time.Time) State {
	switch {
	case p.Status == protocol.StatusRevoked:
		return StateRevoked
	case !p.ValidUntil.After(now):
		return StateExpired
	case p.Status == protocol.StatusHomeObservation && (p.StatusUntil == nil || p.StatusUntil.After(now)):
		return StateHomeObservation
	}
	return StateValid
}

// Query selects passes for a page of the console; zero values select all.
type Query struct {
	Site  string
	Unit  string // exact
	State State
	Now   time.Time // the moment State is judged at
}

// Page is one page of passes, ordered by site, unit and id.
type Page struct {
	Passes []Pass
	More   bool // another page follows
}

// stateSQL is each state's condition, with each ? the moment (Unix
// seconds); the same rules as Pass.State.
var stateSQL = map[State]string{
	StateRevoked: `status = 'revoked'`,
	StateExpired: `status != 'revoked' AND valid_until <= ?`,
	StateHomeObservation: `status = 'home_observation' AND (status_until IS NULL OR status_until > ?)
		AND valid_until > ?`,
	StateValid: `valid_until > ? AND (status = '' OR (status = 'home_observation' AND status_until <= ?))`,
}

const passColumns = `id, key, kind, site, unit, name, valid_from, valid_until, token, issued, status, status_until, reason`

// Search returns page (from 0) of size passes matching q.
func (s *Store) Search(ctx context.Context, q Query, page, size int) (Page, error) {
	if size <= 0 || page < 0 {
		return Page{}, fmt.Errorf("%w: page %d of size %d", ErrBadRequest, page, size)
	}
	var where []string
	var args []any
	if q.Site != "" {
		where, args = append(where, "site = ?"), append(args, q.Site)
	}
	if q.Unit != "" {
		where, args = append(where, "unit = ?"), append(args, q.Unit)
	}
	if q.State != "" {
		cond, ok := stateSQL[q.State]
		if !ok {
			return Page{}, fmt.Errorf("%w: unknown state %q", ErrBadRequest, q.State)
		}
		where = append(where, "("+cond+")")
		for range strings.Count(cond, "?") {
			args = append(args, unix(q.Now))
		}
	}
	filter := ""
	if len(where) > 0 {
		filter = " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.Query(ctx, `SELECT `+passColumns+` FROM passes`+filter+`
		ORDER BY site, unit, id LIMIT ? OFFSET ?`, append(args, size+1, page*size)...)
	if err != nil {
		return Page{}, err
	}
	defer rows.Close()
	var out Page
	for rows.Next() {
		p, err := scanPass(rows)
		if err != nil {
			return Page{}, err
		}
		out.Passes = append(out.Passes, p)
	}
	if err := rows.Err(); err != nil {
		return Page{}, err
	}
	if len(out.Passes) > size {
		out.Passes, out.More = out.Passes[:size], true
	}
	return out, nil
}

// Get returns pass id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (Pass, error) {
	p, err := scanPass(s.db.QueryRow(ctx, `SELECT `+passColumns+` FROM passes WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Pass{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return p, err
}

// HasKey reports whether a current signing key exists, so a form can
// say what to run before anyone fills it in.
func (s *Store) HasKey(ctx context.Context) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM keys WHERE retired IS NULL`).Scan(&n)
	return n > 0, err
}

func scanPass(row interface{ Scan(...any) error }) (Pass, error) {
	var p Pass
	var from, until, issued int64
	var stUntil sql.NullInt64
	if err := row.Scan(&p.ID, &p.Key, &p.Kind, &p.Site, &p.Unit, &p.Name, &from, &until, &p.Token,
		&issued, &p.Status, &stUntil, &p.Reason); err != nil {
		return Pass{}, err
	}
	p.ValidFrom, p.ValidUntil, p.Issued = time.Unix(from, 0).UTC(), time.Unix(until, 0).UTC(), time.Unix(issued, 0).UTC()
	p.StatusUntil = fromUnix(stUntil)
	return p, nil
}
