package passes

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/protocol"
)

// Revoke puts pass id on the status list as revoked, for good.
func (s *Store) Revoke(ctx context.Context, id, reason string) error {
	return s.setStatus(ctx, id, protocol.StatusRevoked, nil, reason)
}

// HomeObservation marks pass id as under home observation until until:
// kiosks refuse to let the holder out and alert the hub.
func (s *Store) HomeObservation(ctx context.Context, id string, until time.Time, reason string) error {
	if !until.After(s.now()) {
		return fmt.Errorf("%w: home observation must end in the future, got %s", ErrBadRequest, until.Format(time.RFC3339))
	}
	return s.setStatus(ctx, id, protocol.StatusHomeObservation, &until, reason)
}

// ClearStatus puts pass id back in good standing (home observation ended
// early, a revocation made in error).
func (s *Store) ClearStatus(ctx context.Context, id string) error {
	return s.setStatus(ctx, id, "", nil, "")
}

func (s *Store) setStatus(ctx context.Context, id string, st protocol.PassStatus, until *time.Time, reason string) error {
	if len(reason) > protocol.MaxStatusReason {
		return fmt.Errorf("%w: reason longer than %d bytes", ErrBadRequest, protocol.MaxStatusReason)
	}
	if err := (&protocol.StatusList{Site: "x", Version: 1, Issued: s.now(), Entries: []protocol.StatusEntry{
		{Pass: id, Status: protocol.StatusRevoked, Reason: reason}}}).Validate(); err != nil && st != "" {
		return fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	var untilUnix sql.NullInt64
	if until != nil {
		untilUnix = sql.NullInt64{Int64: until.Unix(), Valid: true}
	}
	return s.db.Tx(ctx, func(tx sqlstore.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE passes SET status = ?, status_until = ?, reason = ?, changed = ? WHERE id = ?`,
			string(st), untilUnix, reason, unix(s.now()), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return bump(ctx, tx, "status_list")
	})
}

// Filter selects passes to list; zero values select all.
type Filter struct {
	Site string
	IDs  []string
}

// List returns passes by site, unit and id.
func (s *Store) List(ctx context.Context, f Filter) ([]Pass, error) {
	where, args := "", []any{}
	if f.Site != "" {
		where, args = " WHERE site = ?", append(args, f.Site)
	}
	rows, err := s.db.Query(ctx, `SELECT id, key, kind, site, unit, name, valid_from, valid_until, token,
		issued, status, status_until, reason FROM passes`+where+` ORDER BY site, unit, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	want := map[string]bool{}
	for _, id := range f.IDs {
		want[id] = true
	}
	var list []Pass
	for rows.Next() {
		var p Pass
		var from, until, issued int64
		var stUntil sql.NullInt64
		if err := rows.Scan(&p.ID, &p.Key, &p.Kind, &p.Site, &p.Unit, &p.Name, &from, &until, &p.Token,
			&issued, &p.Status, &stUntil, &p.Reason); err != nil {
			return nil, err
		}
		if len(want) > 0 && !want[p.ID] {
			continue
		}
		p.ValidFrom, p.ValidUntil, p.Issued = time.Unix(from, 0).UTC(), time.Unix(until, 0).UTC(), time.Unix(issued, 0).UTC()
		p.StatusUntil = fromUnix(stUntil)
		list = append(list, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range f.IDs {
		if !containsPass(list, id) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
	}
	return list, nil
}

func containsPass(list []Pass, id string) bool {
	for _, p := range list {
		if p.ID == id {
			return true
		}
	}
	return false
}

// StatusList is the downlink payload for site: its passes not in good
// standing now. A revocation drops out once its pass has expired (a week
// later, for kiosks with slow clocks); a home observation once it ends.
func (s *Store) StatusList(ctx context.Context, site string) (protocol.StatusList, error) {
	// The version first: a pass changed between the two reads is then
	// published again under the next version, never missed under this one.
	v, err := s.version(ctx, "status_list")
	if err != nil {
		return protocol.StatusList{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	rows, err := s.db.Query(ctx, `SELECT id, status, status_until, reason FROM passes
		WHERE site = ? AND status != '' AND (status_until IS NULL OR status_until > ?) AND valid_until > ?
		ORDER BY id`, site, unix(now), unix(now.Add(-7*24*time.Hour)))
	if err != nil {
		return protocol.StatusList{}, err
	}
	defer rows.Close()
	l := protocol.StatusList{Site: site, Version: v, Issued: now, Entries: []protocol.StatusEntry{}}
	for rows.Next() {
		var e protocol.StatusEntry
		var until sql.NullInt64
		if err := rows.Scan(&e.Pass, &e.Status, &until, &e.Reason); err != nil {
			return protocol.StatusList{}, err
		}
		e.Until = fromUnix(until)
		l.Entries = append(l.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return protocol.StatusList{}, err
	}
	if len(l.Entries) > protocol.MaxStatusEntries {
		return protocol.StatusList{}, errors.New("status list: too many entries for one message")
	}
	return l, l.Validate()
}

// Sites lists the sites that have passes: the hub publishes a status list
// for each.
func (s *Store) Sites(ctx context.Context) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT site FROM passes ORDER BY site`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var sites []string
	for rows.Next() {
		var site string
		if err := rows.Scan(&site); err != nil {
			return nil, err
		}
		sites = append(sites, site)
	}
	return sites, rows.Err()
}
