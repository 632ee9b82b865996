package operators

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// ErrNoSession means the cookie names no live session.
var ErrNoSession = errors.New("not signed in")

// SessionLife is how long a session lasts without signing in again: one
// shift and a margin.
const SessionLife = 12 * time.Hour

// Session is a signed-in user and the CSRF token every form must carry.
type Session struct {
	User User
	CSRF string
	// Token is the API token's label when a script reads with a token
	// (TokenSession), "" for a browser's session.
	Token string
}

// NewToken returns 32 random bytes, hex.
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// tokenKey is what the table holds: a stolen console.db holds no cookie.
func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// StartSession starts a session for u and returns the cookie value.
func (s *Store) StartSession(ctx context.Context, u User) (token string, sess Session, err error) {
	token = NewToken()
	sess = Session{User: u, CSRF: NewToken()}
	now := s.clock.Now()
	if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE expires < ?`, now.UnixNano()); err != nil {
		return "", Session{}, fmt.Errorf("start session: %w", err)
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO sessions (token, "user", csrf, expires) VALUES (?, ?, ?, ?)`,
		tokenKey(token), u.Name, sess.CSRF, now.Add(SessionLife).UnixNano()); err != nil {
		return "", Session{}, fmt.Errorf("start session: %w", err)
	}
	return token, sess, nil
}

// Session returns the live session the cookie value names.
func (s *Store) Session(ctx context.Context, token string) (Session, error) {
	var sess Session
	var ur userRow
	var expires int64
	err := s.db.QueryRow(ctx, `SELECT `+userColumns+`, s.csrf, s.expires
		FROM sessions s JOIN users u ON u.name = s."user" WHERE s.token = ?`, tokenKey(token)).
		Scan(append(ur.dest(), &sess.CSRF, &expires)...)
	sess.User = ur.user()
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("read session: %w", err)
	}
	if sess.User.Disabled || s.clock.Now().UnixNano() > expires {
		return Session{}, ErrNoSession
	}
	return sess, nil
}

// EndSession signs the cookie's session out.
func (s *Store) EndSession(ctx context.Context, token string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE token = ?`, tokenKey(token)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// AddDevice records a browser that signed in as user and returns the
// value of its device cookie: a sign-in from it is not slowed by the
// limit on the user's name (docs/console.md, "Sign-in lockout").
func (s *Store) AddDevice(ctx context.Context, user string) (string, error) {
	token := NewToken()
	if _, err := s.db.Exec(ctx, `INSERT INTO devices (token, "user", created) VALUES (?, ?, ?)`,
		tokenKey(token), user, s.clock.Now().UnixNano()); err != nil {
		return "", fmt.Errorf("remember the device: %w", err)
	}
	return token, nil
}

// KnownDevice reports whether the device cookie token was given to a
// browser that signed in as user.
func (s *Store) KnownDevice(ctx context.Context, token, user string) bool {
	if token == "" {
		return false
	}
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM devices WHERE token = ? AND "user" = ?`, tokenKey(token), user).Scan(&n)
	return err == nil && n > 0
}
