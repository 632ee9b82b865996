package operators

import (
	"context"
	"fmt"
	"time"

	"github.com/gatepost/gatepost/hub/sqlstore"
)

// The console's sign-in lockout (hub/console, lockout.go) keeps its
// counts here, not in one hub's memory: hubs sharing one PostgreSQL
// database count the same failed sign-ins, so a guesser sent to another
// replica finds the same limits. Keys ("ip:" and an address, "user:" and
// a name, "dev:" and a device cookie) and names are kept as their
// SHA-256: a stolen console.db holds no device cookie.

// FailSignIn records a failed sign-in under each key, at the store's
// clock, and forgets every failure at or before forget: those count no
// more.
func (s *Store) FailSignIn(ctx context.Context, forget time.Time, keys ...string) error {
	now := s.clock.Now().UnixNano()
	err := s.db.Tx(ctx, func(tx sqlstore.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sign_in_failures WHERE at <= ?`, forget.UnixNano()); err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `INSERT INTO sign_in_failures (key, at) VALUES (?, ?)`, tokenKey(k), now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record a failed sign-in: %w", err)
	}
	return nil
}

// SignInFailures counts the failed sign-ins recorded under key after
// since.
func (s *Store) SignInFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM sign_in_failures WHERE key = ? AND at > ?`,
		tokenKey(key), since.UnixNano()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count failed sign-ins: %w", err)
	}
	return n, nil
}

// ClearSignInFailures forgets the failed sign-ins recorded under keys.
func (s *Store) ClearSignInFailures(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if _, err := s.db.Exec(ctx, `DELETE FROM sign_in_failures WHERE key = ?`, tokenKey(k)); err != nil {
			return fmt.Errorf("forget failed sign-ins: %w", err)
		}
	}
	return nil
}

// SlowedTry reports whether a try for the slowed name may be checked
// now: yes when none was in the last every, and then this one is. Of
// hubs asking at one moment, one is told yes.
func (s *Store) SlowedTry(ctx context.Context, name string, every time.Duration) (bool, error) {
	now := s.clock.Now()
	res, err := s.db.Exec(ctx, `INSERT INTO sign_in_slowed (name, tried) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET tried = excluded.tried WHERE sign_in_slowed.tried <= ?`,
		tokenKey(name), now.UnixNano(), now.Add(-every).UnixNano())
	if err != nil {
		return false, fmt.Errorf("slow sign-ins for %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("slow sign-ins for %s: %w", name, err)
	}
	return n == 1, nil
}

// EndSlowed forgets the slowed name's last checked try.
func (s *Store) EndSlowed(ctx context.Context, name string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM sign_in_slowed WHERE name = ?`, tokenKey(name)); err != nil {
		return fmt.Errorf("end the slowing of %s: %w", name, err)
	}
	return nil
}
