// Package registry is the hub's register of kiosks: who may connect to
// the broker and as what. It issues one-time enrollment codes, enrolls a
// kiosk that proves its key with one (or an installer adds it by its
// public key, offline), keeps the broker credentials' hashes, retires
// kiosks, and answers the broker's "who is this?".
//
// The hub's commands, server, broker wiring and console import registry;
// it imports protocol, internal/clock and hub/brokerconf.
package registry

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/brokerconf"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"

	_ "modernc.org/sqlite" // the SQLite driver
)

// State is where a kiosk stands.
type State string

// The states.
const (
	Pending  State = "pending"  // a code is out, not yet used
	Enrolled State = "enrolled" // holds credentials
	Retired  State = "retired"  // refused from now on; what it sent stays
)

// Errors callers branch on; each says what a person can do.
var (
	ErrBadCode = errors.New("the enrollment code is unknown, used or expired: make a new one with `hub kiosks enroll`")
	ErrRetired = errors.New("the kiosk is retired: give the new device a new kiosk id")
	ErrUnknown = errors.New("no such kiosk")
	ErrTaken   = errors.New("the kiosk id belongs to another site")
)

const schema = `
CREATE TABLE IF NOT EXISTS kiosks (
	kiosk        TEXT    NOT NULL PRIMARY KEY,
	site         TEXT    NOT NULL,
	state        TEXT    NOT NULL,
	public_key   TEXT    NOT NULL DEFAULT '', -- protocol.PublicKeyText
	secret_hash  TEXT    NOT NULL DEFAULT '', -- sha256 of the broker secret, hex
	mosquitto    TEXT    NOT NULL DEFAULT '', -- the same secret in Mosquitto's $7$ format
	created      INTEGER NOT NULL,            -- unix ns
	enrolled     INTEGER NOT NULL DEFAULT 0,
	retired      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS enroll_codes (
	code_hash TEXT    NOT NULL PRIMARY KEY, -- sha256 of the secret, hex: the secret itself is never stored
	kiosk     TEXT    NOT NULL REFERENCES kiosks (kiosk),
	site      TEXT    NOT NULL,
	expires   INTEGER NOT NULL,
	used      INTEGER NOT NULL DEFAULT 0
);`

// FileName is the registry's own database in the hub's data folder.
const FileName = "kiosks.db"

// Store is the registry on a SQLite database.
type Store struct {
	db    *sql.DB
	owned bool // opened by OpenFile: Close closes it
	clock clock.Clock
}

// OpenFile opens (creating if needed) the registry in its own SQLite file.
func OpenFile(ctx context.Context, path string, c clock.Clock) (*Store, error) {
	u := url.URL{Path: path}
	db, err := sql.Open("sqlite", "file:"+u.EscapedPath()+
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open kiosk registry %s: %w", path, err)
	}
	s, err := Open(ctx, db, c)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// Close closes the database if OpenFile opened it.
func (s *Store) Close() error {
	if s.owned {
		return s.db.Close()
	}
	return nil
}

// Open creates the registry's tables in db if they are missing.
func Open(ctx context.Context, db *sql.DB, c clock.Clock) (*Store, error) {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, fmt.Errorf("open kiosk registry: %w", err)
	}
	return &Store{db: db, clock: clock.Or(c)}, nil
}

// Kiosk is one row of the registry.
type Kiosk struct {
	Site, Kiosk string
	State       State
	PublicKey   ed25519.PublicKey // nil while pending
	Created     time.Time
	Enrolled    time.Time // zero while pending
	Retired     time.Time // zero unless retired
	Mosquitto   string    // the broker secret's Mosquitto hash
}

// Fingerprint is the kiosk key's fingerprint, or "" while pending.
func (k Kiosk) Fingerprint() string {
	if k.PublicKey == nil {
		return ""
	}
	return protocol.Fingerprint(k.PublicKey)
}

// Credentials are a kiosk's broker login, given once, at enrollment.
type Credentials struct {
	Username, Secret string
}

// NewCode makes a one-time enrollment code for kiosk at site, valid for
// ttl. The kiosk is registered as pending unless it is enrolled already
// (a new code then re-enrolls it with a new key: a replaced device).
func (s *Store) NewCode(ctx context.Context, site, kiosk string, ttl time.Duration) (secret string, expires time.Time, err error) {
	if !protocol.ValidName(site) || !protocol.ValidName(kiosk) {
		return "", time.Time{}, fmt.Errorf("site %q, kiosk %q: use letters, digits, '-' and '_'", site, kiosk)
	}
	if ttl <= 0 || ttl > 30*24*time.Hour {
		return "", time.Time{}, fmt.Errorf("a code's lifetime must be between 1s and 30 days, not %v", ttl)
	}
	now := s.clock.Now()
	secret, expires = protocol.NewEnrollSecret(), now.Add(ttl)
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := claim(ctx, tx, site, kiosk, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO enroll_codes (code_hash, kiosk, site, expires) VALUES (?, ?, ?, ?)`,
			digest(secret), kiosk, site, expires.UnixNano())
		return err
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("enrollment code for %s/%s: %w", site, kiosk, err)
	}
	return secret, expires, nil
}

// claim registers kiosk at site as pending if it is new, and refuses a
// retired kiosk or one of another site.
func claim(ctx context.Context, tx *sql.Tx, site, kiosk string, now time.Time) error {
	var haveSite string
	var state State
	err := tx.QueryRowContext(ctx, `SELECT site, state FROM kiosks WHERE kiosk = ?`, kiosk).Scan(&haveSite, &state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, `INSERT INTO kiosks (kiosk, site, state, created) VALUES (?, ?, ?, ?)`,
			kiosk, site, Pending, now.UnixNano())
		return err
	case err != nil:
		return err
	case state == Retired:
		return ErrRetired
	case haveSite != site:
		return fmt.Errorf("%w (%s)", ErrTaken, haveSite)
	}
	return nil
}

// Redeem enrolls the kiosk that sent r, signed with pub: the code must be
// unused, unexpired and made for this site and kiosk. The code is spent in
// the same transaction that stores the key, so it works once.
func (s *Store) Redeem(ctx context.Context, r protocol.EnrollRequest, pub ed25519.PublicKey) (Credentials, error) {
	now := s.clock.Now()
	var creds Credentials
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE enroll_codes SET used = ?
			WHERE code_hash = ? AND site = ? AND kiosk = ? AND used = 0 AND expires > ?`,
			now.UnixNano(), digest(r.Secret), r.Site, r.Kiosk, now.UnixNano())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrBadCode
		}
		if err := claim(ctx, tx, r.Site, r.Kiosk, now); err != nil {
			return err
		}
		creds, err = enroll(ctx, tx, r.Site, r.Kiosk, pub, now)
		return err
	})
	if err != nil {
		return Credentials{}, fmt.Errorf("enroll %s/%s: %w", r.Site, r.Kiosk, err)
	}
	return creds, nil
}

// Add enrolls a kiosk by the public key an installer copied from `kiosk
// identity`, with no code: the offline path.
func (s *Store) Add(ctx context.Context, site, kiosk string, pub ed25519.PublicKey) (Credentials, error) {
	if !protocol.ValidName(site) || !protocol.ValidName(kiosk) {
		return Credentials{}, fmt.Errorf("site %q, kiosk %q: use letters, digits, '-' and '_'", site, kiosk)
	}
	now := s.clock.Now()
	var creds Credentials
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := claim(ctx, tx, site, kiosk, now); err != nil {
			return err
		}
		var err error
		creds, err = enroll(ctx, tx, site, kiosk, pub, now)
		return err
	})
	if err != nil {
		return Credentials{}, fmt.Errorf("add %s/%s: %w", site, kiosk, err)
	}
	return creds, nil
}

func enroll(ctx context.Context, tx *sql.Tx, site, kiosk string, pub ed25519.PublicKey, now time.Time) (Credentials, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Credentials{}, err
	}
	creds := Credentials{Username: brokerconf.KioskUsername(site, kiosk), Secret: base64.RawURLEncoding.EncodeToString(raw)}
	mosq, err := brokerconf.MosquittoHash(creds.Secret)
	if err != nil {
		return Credentials{}, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE kiosks SET state = ?, public_key = ?, secret_hash = ?, mosquitto = ?, enrolled = ?
		WHERE kiosk = ?`, Enrolled, protocol.PublicKeyText(pub), digest(creds.Secret), mosq, now.UnixNano(), kiosk)
	return creds, err
}

// Retire refuses kiosk from now on. What it sent stays at the hub.
func (s *Store) Retire(ctx context.Context, kiosk string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE kiosks SET state = ?, retired = ?, secret_hash = '', mosquitto = ''
		WHERE kiosk = ? AND state != ?`, Retired, s.clock.Now().UnixNano(), kiosk, Retired)
	if err != nil {
		return fmt.Errorf("retire %s: %w", kiosk, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Get(ctx, kiosk); err != nil {
			return err
		}
		return nil // retired already
	}
	_, err = s.db.ExecContext(ctx, `UPDATE enroll_codes SET used = ? WHERE kiosk = ? AND used = 0`, s.clock.Now().UnixNano(), kiosk)
	return err
}

// Authenticate answers the broker: the enrolled kiosk whose login this
// is, or false. The comparison of secrets takes the same time whatever
// matches.
func (s *Store) Authenticate(ctx context.Context, username, secret string) (Kiosk, bool) {
	site, kiosk, ok := strings.Cut(username, "/")
	if !ok {
		return Kiosk{}, false
	}
	k := Kiosk{Kiosk: kiosk}
	var hash string
	var state State
	err := s.db.QueryRowContext(ctx, `SELECT site, state, secret_hash FROM kiosks WHERE kiosk = ?`, kiosk).
		Scan(&k.Site, &state, &hash)
	if err != nil || k.Site != site || state != Enrolled || hash == "" {
		return Kiosk{}, false
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(digest(secret))) != 1 {
		return Kiosk{}, false
	}
	k.State = state
	return k, true
}

// Get returns one kiosk.
func (s *Store) Get(ctx context.Context, kiosk string) (Kiosk, error) {
	ks, err := s.list(ctx, `WHERE kiosk = ?`, kiosk)
	if err != nil {
		return Kiosk{}, err
	}
	if len(ks) == 0 {
		return Kiosk{}, fmt.Errorf("%w: %s", ErrUnknown, kiosk)
	}
	return ks[0], nil
}

// List returns every kiosk, by site and id.
func (s *Store) List(ctx context.Context) ([]Kiosk, error) { return s.list(ctx, "") }

func (s *Store) list(ctx context.Context, where string, args ...any) ([]Kiosk, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT site, kiosk, state, public_key, mosquitto, created, enrolled, retired
		FROM kiosks `+where+` ORDER BY site, kiosk`, args...)
	if err != nil {
		return nil, fmt.Errorf("list kiosks: %w", err)
	}
	defer rows.Close()
	var out []Kiosk
	for rows.Next() {
		var k Kiosk
		var pub string
		var created, enrolled, retired int64
		if err := rows.Scan(&k.Site, &k.Kiosk, &k.State, &pub, &k.Mosquitto, &created, &enrolled, &retired); err != nil {
			return nil, err
		}
		if pub != "" {
			if k.PublicKey, err = protocol.ParsePublicKeyText(pub); err != nil {
				return nil, fmt.Errorf("kiosk %s: stored key: %w", k.Kiosk, err)
			}
		}
		k.Created, k.Enrolled, k.Retired = unixNano(created), unixNano(enrolled), unixNano(retired)
		out = append(out, k)
	}
	return out, rows.Err()
}

func (s *Store) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func unixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
