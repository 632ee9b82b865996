// Package registry is the hub's register of kiosks: who may connect to
// the broker and as what. It issues one-time enrollment codes, enrolls a
// kiosk that proves its key with one (or an installer adds it by its
// public key, offline), keeps the broker credentials' hashes, retires
// kiosks, and answers the broker's "who is this?" (Authenticate) and
// ingest's "may this kiosk's batch be stored?" (Admit). It also keeps
// transition mode (a site whose unenrolled kiosks are still taken until a
// deadline, for a hub upgraded in place) and a generation number that
// changes with every change, so a running hub learns of a retirement
// another process made.
//
// The register lives in SQLite (hub.db in the data folder, beside the
// other stores: OpenShared, the default; kiosks.db, its own file before,
// is what OpenFile opens, for hub/datadir's merge and the tests) or in
// PostgreSQL (OpenPostgres), behind one API; its
// tables are made and changed by versioned migrations (migrate.go).
//
// The hub's commands, server, broker wiring and console import registry;
// it imports protocol, internal/clock and hub/brokerconf, and the SQLite
// and PostgreSQL drivers and goose.
package registry

import (
	"cmp"
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
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/brokerconf"
	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/protocol"
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

	// ErrCodeUsed and ErrCodeExpired say why a known code was refused;
	// both are ErrBadCode too. Redeem tells them apart only for a caller
	// that holds the code's secret, so nobody learns anything by guessing.
	ErrCodeUsed    error = &codeError{msg: "the enrollment code was used already (each code works once): make a new one with `hub kiosks enroll`"}
	ErrCodeExpired error = &codeError{msg: "the enrollment code has expired: make a new one with `hub kiosks enroll`"}
)

// codeError is a refused code with a more precise sentence; it is
// ErrBadCode for callers that do not care why, and also (when set)
// ErrRetired or ErrTaken.
type codeError struct {
	msg  string
	also error
}

func (e *codeError) Error() string { return e.msg }
func (e *codeError) Is(target error) bool {
	return target == ErrBadCode || (e.also != nil && target == e.also)
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
	// CodeExpires is when the newest enrollment code still out for the
	// kiosk expires; zero if none is (none made, used, or expired).
	CodeExpires time.Time
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
	err = s.db.Tx(ctx, func(tx sqlstore.Tx) error {
		if err := claim(ctx, tx, site, kiosk, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO enroll_codes (code_hash, kiosk, site, expires) VALUES (?, ?, ?, ?)`,
			digest(secret), kiosk, site, expires.UnixNano())
		if err != nil {
			return err
		}
		return bump(ctx, tx)
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("enrollment code for %s/%s: %w", site, kiosk, err)
	}
	return secret, expires, nil
}

// claim registers kiosk at site as pending if it is new, and refuses a
// retired kiosk or one of another site.
func claim(ctx context.Context, tx sqlstore.Tx, site, kiosk string, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO enrolled_kiosks (kiosk, site, state, created) VALUES (?, ?, ?, ?)
		ON CONFLICT (kiosk) DO NOTHING`, kiosk, site, string(Pending), now.UnixNano())
	if err != nil {
		return err
	}
	var haveSite string
	var state State
	if err := tx.QueryRow(ctx, `SELECT site, state FROM enrolled_kiosks WHERE kiosk = ?`, kiosk).Scan(&haveSite, &state); err != nil {
		return err
	}
	switch {
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
	err := s.db.Tx(ctx, func(tx sqlstore.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE enroll_codes SET used = ?
			WHERE code_hash = ? AND site = ? AND kiosk = ? AND used = 0 AND expires > ?`,
			now.UnixNano(), digest(r.Secret), r.Site, r.Kiosk, now.UnixNano())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return whyRefused(ctx, tx, r, now)
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
	err := s.db.Tx(ctx, func(tx sqlstore.Tx) error {
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

func enroll(ctx context.Context, tx sqlstore.Tx, site, kiosk string, pub ed25519.PublicKey, now time.Time) (Credentials, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Credentials{}, err
	}
	creds := Credentials{Username: brokerconf.KioskUsername(site, kiosk), Secret: base64.RawURLEncoding.EncodeToString(raw)}
	mosq, err := brokerconf.MosquittoHash(creds.Secret)
	if err != nil {
		return Credentials{}, err
	}
	// Never a retired kiosk, whatever ran since claim looked.
	res, err := tx.Exec(ctx, `UPDATE enrolled_kiosks SET state = ?, public_key = ?, secret_hash = ?, mosquitto = ?, enrolled = ?
		WHERE kiosk = ? AND state != ?`, string(Enrolled), protocol.PublicKeyText(pub), digest(creds.Secret), mosq, now.UnixNano(),
		kiosk, string(Retired))
	if err != nil {
		return Credentials{}, err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return Credentials{}, cmp.Or(err, ErrRetired)
	}
	return creds, bump(ctx, tx)
}

// whyRefused says why r's code did not redeem. The details (used,
// expired, made for another kiosk, kiosk retired) are given only when the
// code's secret is one the hub made: to anyone else every refusal is the
// same ErrBadCode.
func whyRefused(ctx context.Context, tx sqlstore.Tx, r protocol.EnrollRequest, now time.Time) error {
	var site, kiosk string
	var expires, used int64
	err := tx.QueryRow(ctx, `SELECT site, kiosk, expires, used FROM enroll_codes WHERE code_hash = ?`, digest(r.Secret)).
		Scan(&site, &kiosk, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrBadCode
	}
	if err != nil {
		return err
	}
	var state State
	if err := tx.QueryRow(ctx, `SELECT state FROM enrolled_kiosks WHERE kiosk = ?`, kiosk).Scan(&state); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	switch {
	case state == Retired:
		return &codeError{fmt.Sprintf("%s (%s/%s)", ErrRetired, site, kiosk), ErrRetired}
	case kiosk == r.Kiosk && site != r.Site:
		return &codeError{fmt.Sprintf("%s: kiosk %s belongs to site %s, the request says %s (fix site in kiosk.toml)", ErrTaken, kiosk, site, r.Site), ErrTaken}
	case kiosk != r.Kiosk || site != r.Site:
		return fmt.Errorf("%w: the code was made for %s/%s, the request is from %s/%s (fix site and kiosk in kiosk.toml, or make a code for this kiosk)",
			ErrBadCode, site, kiosk, r.Site, r.Kiosk)
	case used != 0:
		return ErrCodeUsed
	case expires <= now.UnixNano():
		return fmt.Errorf("%w (it expired at %s)", ErrCodeExpired, time.Unix(0, expires).UTC().Format(time.RFC3339))
	}
	return ErrBadCode
}

// Retire refuses kiosk from now on: its login, its outstanding codes and
// (through Admit) its later batches. What it sent stays at the hub.
// Retiring a retired kiosk does nothing.
func (s *Store) Retire(ctx context.Context, kiosk string) error {
	now := s.clock.Now().UnixNano()
	err := s.db.Tx(ctx, func(tx sqlstore.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE enrolled_kiosks SET state = ?, retired = ?, secret_hash = '', mosquitto = ''
			WHERE kiosk = ? AND state != ?`, string(Retired), now, kiosk, string(Retired))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			err := tx.QueryRow(ctx, `SELECT 1 FROM enrolled_kiosks WHERE kiosk = ?`, kiosk).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: %s (see `hub kiosks list`)", ErrUnknown, kiosk)
			}
			return err // nil: retired already
		}
		if _, err := tx.Exec(ctx, `UPDATE enroll_codes SET used = ? WHERE kiosk = ? AND used = 0`, now, kiosk); err != nil {
			return err
		}
		return bump(ctx, tx)
	})
	if err != nil && !errors.Is(err, ErrUnknown) {
		return fmt.Errorf("retire %s: %w", kiosk, err)
	}
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
	err := s.db.QueryRow(ctx, `SELECT site, state, secret_hash FROM enrolled_kiosks WHERE kiosk = ?`, kiosk).
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
	now := s.clock.Now().UnixNano()
	rows, err := s.db.Query(ctx, `SELECT site, kiosk, state, public_key, mosquitto, created, enrolled, retired,
		COALESCE((SELECT MAX(expires) FROM enroll_codes c WHERE c.kiosk = enrolled_kiosks.kiosk AND c.used = 0 AND c.expires > ?), 0)
		FROM enrolled_kiosks `+where+` ORDER BY site, kiosk`, append([]any{now}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("list kiosks: %w", err)
	}
	defer rows.Close()
	var out []Kiosk
	for rows.Next() {
		var k Kiosk
		var pub string
		var created, enrolled, retired, code int64
		if err := rows.Scan(&k.Site, &k.Kiosk, &k.State, &pub, &k.Mosquitto, &created, &enrolled, &retired, &code); err != nil {
			return nil, err
		}
		if pub != "" {
			if k.PublicKey, err = protocol.ParsePublicKeyText(pub); err != nil {
				return nil, fmt.Errorf("kiosk %s: stored key: %w", k.Kiosk, err)
			}
		}
		k.Created, k.Enrolled, k.Retired, k.CodeExpires = unixNano(created), unixNano(enrolled), unixNano(retired), unixNano(code)
		out = append(out, k)
	}
	return out, rows.Err()
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
