package operators

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// API tokens let a script on another machine read what the console
// shows (CSV exports, /ops/api/*) with `Authorization: Bearer <token>`. A
// token acts for a user: it has that user's role, and stops working when
// the user is disabled. It only reads: the console refuses any other
// method with a token. The store keeps the token's SHA-256, never the
// token, which is shown once when it is made.

// ErrNoToken means a token is unknown, revoked, or its user disabled.
var ErrNoToken = errors.New("no such API token")

// TokenPrefix starts every API token, so that one found in a script or a
// log is recognised for what it is.
const TokenPrefix = "gpt_"

var tokenLabel = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// APIToken is what is listed of a token: never the token itself.
type APIToken struct {
	Label string `json:"label"`
	User  string `json:"user"`
	Admin bool   `json:"admin"` // the user's role, now
	// Sites are the compounds the token's user is limited to, now (empty:
	// every compound); Buildings a building lead's buildings. A token
	// reads what its user may see, so these are the token's reach.
	Sites     []string  `json:"sites"`
	Buildings []string  `json:"buildings,omitempty"`
	Lead      bool      `json:"building_lead,omitempty"`
	Created   time.Time `json:"created"`
	LastUsed  time.Time `json:"last_used,omitzero"`
}

// AddToken makes a token labelled label for user and returns it; it is
// not kept and cannot be shown again.
func (s *Store) AddToken(ctx context.Context, label, user string) (string, error) {
	if !tokenLabel.MatchString(label) {
		return "", fmt.Errorf("add API token: label must be 1-64 letters, digits, '.', '-' or '_', starting with a letter or digit, got %q", label)
	}
	u, err := s.User(ctx, user)
	if err != nil {
		return "", fmt.Errorf("add API token: %w", err)
	}
	if u.Disabled {
		return "", fmt.Errorf("add API token: user %s is disabled", user)
	}
	token := TokenPrefix + NewToken()
	res, err := s.db.Exec(ctx, `INSERT INTO api_tokens (label, token, "user", created) VALUES (?, ?, ?, ?)
		ON CONFLICT (label) DO NOTHING`, label, tokenKey(token), user, s.clock.Now().UnixNano())
	if err != nil {
		return "", fmt.Errorf("add API token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", fmt.Errorf("add API token: a token labelled %q exists: revoke it first", label)
	}
	return token, nil
}

// TokenSession returns the session a request with token acts in: the
// user's, with no CSRF token (so no form can be posted with it). It
// records when the token was last used.
func (s *Store) TokenSession(ctx context.Context, token string) (Session, string, error) {
	if !strings.HasPrefix(token, TokenPrefix) {
		return Session{}, "", ErrNoToken
	}
	var sess Session
	var ur userRow
	var label string
	err := s.db.QueryRow(ctx, `SELECT t.label, `+userColumns+` FROM api_tokens t
		JOIN users u ON u.name = t."user" WHERE t.token = ?`, tokenKey(token)).
		Scan(append([]any{&label}, ur.dest()...)...)
	sess.User, sess.Token = ur.user(), label
	if errors.Is(err, sql.ErrNoRows) || (err == nil && sess.User.Disabled) {
		return Session{}, "", ErrNoToken
	}
	if err != nil {
		return Session{}, "", fmt.Errorf("read API token: %w", err)
	}
	if _, err := s.db.Exec(ctx, `UPDATE api_tokens SET last_used = ? WHERE label = ?`, s.clock.Now().UnixNano(), label); err != nil {
		return Session{}, "", fmt.Errorf("read API token: %w", err)
	}
	return sess, label, nil
}

// Tokens lists the tokens, by label.
func (s *Store) Tokens(ctx context.Context) ([]APIToken, error) {
	rows, err := s.db.Query(ctx, `SELECT t.label, t.created, t.last_used, `+userColumns+`
		FROM api_tokens t JOIN users u ON u.name = t."user" ORDER BY t.label`)
	if err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	defer rows.Close()
	out := []APIToken{}
	for rows.Next() {
		var t APIToken
		var created, used int64
		var r userRow
		if err := rows.Scan(append([]any{&t.Label, &created, &used}, r.dest()...)...); err != nil {
			return nil, fmt.Errorf("list API tokens: %w", err)
		}
		u := r.user()
		t.User, t.Admin, t.Lead, t.Sites, t.Buildings = u.Name, u.Admin, u.Lead, u.Sites, u.Buildings
		if t.Sites == nil || u.AllSites() {
			t.Sites = []string{}
		}
		t.Created = time.Unix(0, created).UTC()
		if used != 0 {
			t.LastUsed = time.Unix(0, used).UTC()
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken removes the token labelled label.
func (s *Store) RevokeToken(ctx context.Context, label string) error {
	res, err := s.db.Exec(ctx, `DELETE FROM api_tokens WHERE label = ?`, label)
	if err != nil {
		return fmt.Errorf("revoke API token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("revoke API token %q: %w", label, ErrNoToken)
	}
	return nil
}
