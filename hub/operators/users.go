package operators

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"golang.org/x/crypto/argon2"
)

// Errors callers branch on.
var (
	ErrBadCredentials = errors.New("wrong user name or password")
	ErrNoUser         = errors.New("no such user")
	ErrUserExists     = errors.New("user already exists")
)

// User is an operator account. Admins also manage users and may reveal
// the personal details operators see masked.
type User struct {
	Name     string `json:"name"`
	Admin    bool   `json:"admin"`
	Disabled bool   `json:"disabled"`
	// Lead marks a building lead (RoleBuildingLead): Sites holds its one
	// compound and Buildings its buildings.
	Lead bool `json:"building_lead,omitempty"`
	// Sites limits an operator to these compounds; empty is every one.
	Sites     []string `json:"sites,omitempty"`
	Buildings []string `json:"buildings,omitempty"`
	// Created and LastSignIn are filled in by Users only; LastSignIn is
	// the latest sign_in line of the audit log, zero if there is none.
	Created    time.Time `json:"created,omitzero"`
	LastSignIn time.Time `json:"last_sign_in,omitzero"`
}

// Role names the user's role as the console shows it.
func (u User) Role() string {
	switch {
	case u.Admin:
		return "admin"
	case u.Lead:
		return RoleBuildingLead
	}
	return "operator"
}

var userPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// MinPassword is the shortest password accepted.
const MinPassword = 10

// argon2id parameters: OWASP's second recommended set (19 MiB, 2 passes,
// 1 lane), about 30 ms on one core of a small server: slow for a guesser,
// fast enough that sign-in never feels it.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns the argon2id PHC string of password with a fresh salt.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the PHC string hash.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<20 || t > 16 || p == 0 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when the user does not exist, so that a
// missing name takes as long as a wrong password.
var dummyHash, _ = HashPassword("not a password anyone has")

// ValidUserName reports whether name may name an account: 1-64 letters,
// digits, '.', '_' or '-'.
func ValidUserName(name string) bool { return userPattern.MatchString(name) }

func validUser(name, password string) error {
	if !userPattern.MatchString(name) {
		return fmt.Errorf("user name must be 1-64 letters, digits, '.', '_' or '-', got %q", name)
	}
	if len([]rune(password)) < MinPassword {
		return fmt.Errorf("password must be at least %d characters", MinPassword)
	}
	return nil
}

// AddUser creates an account.
func (s *Store) AddUser(ctx context.Context, name, password string, admin bool) error {
	if err := validUser(name, password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	res, err := s.db.Exec(ctx, `INSERT INTO users (name, hash, admin, created) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, name, hash, flag(admin), s.clock.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("add user %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("add user %s: %w", name, ErrUserExists)
	}
	return nil
}

// SetPassword replaces a user's password and ends their sessions.
func (s *Store) SetPassword(ctx context.Context, name, password string) error {
	if err := validUser(name, password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return s.updateUser(ctx, name, `UPDATE users SET hash = ? WHERE name = ?`, hash, name)
}

// SetAdmin makes a user an admin or an operator; their sessions end, so
// the new role holds from their next sign-in on.
// Either way the account stops being a building lead; an admin's compound
// scope is cleared (admins see every compound).
func (s *Store) SetAdmin(ctx context.Context, name string, admin bool) error {
	if admin {
		return s.updateUser(ctx, name, `UPDATE users SET admin = 1, role = '', sites = '', buildings = '' WHERE name = ?`, name)
	}
	return s.updateUser(ctx, name, `UPDATE users SET admin = 0,
		sites = CASE role WHEN '' THEN sites ELSE '' END, role = '', buildings = '' WHERE name = ?`, name)
}

// SetDisabled disables or enables a user; disabling ends their sessions.
func (s *Store) SetDisabled(ctx context.Context, name string, disabled bool) error {
	return s.updateUser(ctx, name, `UPDATE users SET disabled = ? WHERE name = ?`, flag(disabled), name)
}

func (s *Store) updateUser(ctx context.Context, name, query string, args ...any) error {
	err := s.db.Tx(ctx, func(tx sqlstore.Tx) error {
		res, err := tx.Exec(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNoUser
		}
		_, err = tx.Exec(ctx, `DELETE FROM sessions WHERE "user" = ?`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("update user %s: %w", name, err)
	}
	return nil
}

// flag is a boolean as the store keeps it, 0 or 1 in an INTEGER column
// on both engines.
func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Users lists every account by name, with when it was created and when it
// last signed in (from the audit log, which keeps every sign-in).
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.Query(ctx, `SELECT `+userColumns+`, u.created,
		coalesce((SELECT max(a.at) FROM audit a WHERE a."user" = u.name AND a.action = 'sign_in'), 0)
		FROM users u ORDER BY u.name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var ur userRow
		var created, last int64
		if err := rows.Scan(append(ur.dest(), &created, &last)...); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		u := ur.user()
		u.Created = time.Unix(0, created).UTC()
		if last != 0 {
			u.LastSignIn = time.Unix(0, last).UTC()
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// User returns one account, as Users lists it.
func (s *Store) User(ctx context.Context, name string) (User, error) {
	users, err := s.Users(ctx)
	if err != nil {
		return User{}, err
	}
	for _, u := range users {
		if u.Name == name {
			return u, nil
		}
	}
	return User{}, fmt.Errorf("user %s: %w", name, ErrNoUser)
}

// Authenticate checks a name and password. A disabled account or a wrong
// password both give ErrBadCredentials, so a guesser learns nothing.
func (s *Store) Authenticate(ctx context.Context, name, password string) (User, error) {
	var ur userRow
	var hash string
	err := s.db.QueryRow(ctx, `SELECT `+userColumns+`, u.hash FROM users u WHERE u.name = ?`, name).
		Scan(append(ur.dest(), &hash)...)
	u := ur.user()
	if errors.Is(err, sql.ErrNoRows) {
		CheckPassword(dummyHash, password)
		return User{}, ErrBadCredentials
	}
	if err != nil {
		return User{}, fmt.Errorf("sign in: %w", err)
	}
	if !CheckPassword(hash, password) || u.Disabled {
		return User{}, ErrBadCredentials
	}
	return u, nil
}
