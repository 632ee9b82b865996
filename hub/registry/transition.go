package registry

import (
	"context"
	"fmt"
	"time"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/protocol"
)

// Transition mode is the upgrade path of a hub that had kiosks before
// enrollment existed: for a site an operator names, with a deadline, the
// hub keeps taking batches from that site's kiosks that are not enrolled
// yet, so that they can be enrolled one by one. Nothing else is opened:
// a retired kiosk, a kiosk of another site, and every kiosk once the
// deadline has passed are refused as on a new hub.

// MaxTransition bounds how far ahead a deadline may be: an open door
// with no end in sight is not a transition.
const MaxTransition = 366 * 24 * time.Hour

// Transition is one site's transition deadline.
type Transition struct {
	Site     string
	Deadline time.Time
	// Active is true before the deadline (by the hub's clock): the site's
	// unenrolled kiosks are still taken.
	Active bool
}

// SetTransition puts site in transition mode until the deadline, or ends
// it when until is zero. The deadline must be in the future and at most
// MaxTransition ahead.
func (s *Store) SetTransition(ctx context.Context, site string, until time.Time) error {
	if !protocol.ValidName(site) {
		return fmt.Errorf("site %q: use letters, digits, '-' and '_'", site)
	}
	now := s.clock.Now()
	if !until.IsZero() && !until.After(now) {
		return fmt.Errorf("transition deadline %s is not in the future (the hub's clock says %s); to end the transition, use --end",
			until.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if until.Sub(now) > MaxTransition {
		return fmt.Errorf("transition deadline %s is more than a year ahead: enroll the site's kiosks sooner, and set a nearer deadline",
			until.UTC().Format(time.RFC3339))
	}
	err := s.db.Tx(ctx, func(tx sqlstore.Tx) error {
		var err error
		if until.IsZero() {
			_, err = tx.Exec(ctx, `DELETE FROM transitions WHERE site = ?`, site)
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO transitions (site, deadline) VALUES (?, ?)
				ON CONFLICT (site) DO UPDATE SET deadline = excluded.deadline`, site, until.UnixNano())
		}
		if err != nil {
			return err
		}
		return bump(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("transition of %s: %w", site, err)
	}
	return nil
}

// Transitions lists every site with a transition deadline, passed or
// not, by site: a passed one stays listed until ended, so the console
// can say why the site's old kiosks are refused now.
func (s *Store) Transitions(ctx context.Context) ([]Transition, error) {
	rows, err := s.db.Query(ctx, `SELECT site, deadline FROM transitions ORDER BY site`)
	if err != nil {
		return nil, fmt.Errorf("list transitions: %w", err)
	}
	defer rows.Close()
	now := s.clock.Now()
	var out []Transition
	for rows.Next() {
		var t Transition
		var deadline int64
		if err := rows.Scan(&t.Site, &deadline); err != nil {
			return nil, err
		}
		t.Deadline = time.Unix(0, deadline)
		t.Active = now.Before(t.Deadline)
		out = append(out, t)
	}
	return out, rows.Err()
}

// InTransition reports whether site is in transition mode now, and until
// when: true only before the deadline. It fails closed: a store it cannot
// read is no transition.
func (s *Store) InTransition(ctx context.Context, site string) (time.Time, bool) {
	var deadline int64
	err := s.db.QueryRow(ctx, `SELECT deadline FROM transitions WHERE site = ?`, site).Scan(&deadline)
	if err != nil {
		return time.Time{}, false
	}
	d := time.Unix(0, deadline)
	return d, s.clock.Now().Before(d)
}

// Generation is a number that changes with every change to the registry
// (a code made, a kiosk enrolled, added or retired, a transition set or
// ended), by this process or any other on the same file. A running hub
// polls it, cheaply, to learn that it must look again: to close a
// retired kiosk's session within seconds of `hub kiosks retire`.
func (s *Store) Generation(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRow(ctx, `SELECT n FROM generation WHERE id = 1`).Scan(&n); err != nil {
		return 0, fmt.Errorf("kiosk registry generation: %w", err)
	}
	return n, nil
}

// bump changes the generation, inside the transaction of a change.
func bump(ctx context.Context, tx sqlstore.Tx) error {
	_, err := tx.Exec(ctx, `UPDATE generation SET n = n + 1 WHERE id = 1`)
	return err
}

// Admit is ingest's question: may a batch from kiosk at site be stored?
// Nil for a kiosk enrolled at that site; otherwise ErrRetired, ErrTaken
// (it is enrolled, pending or retired at another site) or ErrUnknown (not
// enrolled: never seen, or a code is out but unused). Transition mode is
// the caller's to apply on ErrUnknown alone (InTransition); a retired
// kiosk or one of another site is refused whatever the mode.
func (s *Store) Admit(ctx context.Context, site, kiosk string) error {
	k, err := s.admission(ctx, kiosk)
	if err != nil {
		return fmt.Errorf("admit %s/%s: %w", site, kiosk, err)
	}
	return k.admits(site, kiosk)
}

// admits is Admit's answer for kiosk at site, from what the register
// holds of it.
func (k admission) admits(site, kiosk string) error {
	switch {
	case !k.found:
		return fmt.Errorf("%w: %s/%s is not enrolled (enroll it with `hub kiosks enroll`)", ErrUnknown, site, kiosk)
	case k.site != site:
		return fmt.Errorf("%w: kiosk %s is registered at site %s, not %s", ErrTaken, kiosk, k.site, site)
	case k.state == Retired:
		return fmt.Errorf("%w: %s/%s", ErrRetired, site, kiosk)
	case k.state != Enrolled:
		return fmt.Errorf("%w: %s/%s has an enrollment code but has not used it yet", ErrUnknown, site, kiosk)
	}
	return nil
}
