package passes

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/protocol"
)

// Key is a signing key as the hub lists it (never the private half).
type Key struct {
	protocol.PublicKey
	Current   bool       `json:"current"`             // signs new passes
	Passes    int        `json:"passes"`              // passes it signed
	Withdrawn *time.Time `json:"withdrawn,omitempty"` // taken out of the key set: its passes no longer open gates
}

// InitKey makes the first signing key. It refuses when one exists.
func (s *Store) InitKey(ctx context.Context) (Key, error) {
	return s.newKey(ctx, true)
}

// RotateKey makes a new signing key and retires the current one. The old
// key stays in the key set, accepted by kiosks until the last pass it
// signed expires (its not_after), so no pass handed out stops working.
func (s *Store) RotateKey(ctx context.Context) (Key, error) {
	return s.newKey(ctx, false)
}

// newKey makes a key (the first, with first) in one transaction that
// bumps the key set's version before anything else, so that key changes
// run one at a time even from several hubs on one database: of two
// `hub keys init` at once, the second finds the first's key and refuses.
// The private key file is written before the key is recorded, in that
// transaction: a crash in between leaves an unused file, never a
// recorded key without its private half.
func (s *Store) newKey(ctx context.Context, first bool) (Key, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	var id string
	wrote, recorded := false, false
	err = s.db.Tx(ctx, func(tx sqlstore.Tx) error {
		if err := bump(ctx, tx, "keys"); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM keys`).Scan(&n); err != nil {
			return err
		}
		switch {
		case first && n > 0:
			return ErrKeyExists
		case !first && n == 0:
			return ErrNoKey
		}
		id = fmt.Sprintf("k%d", n+1)
		if err := s.writeKey(id, priv); err != nil {
			return err
		}
		wrote = true
		// Each retired key is accepted until the last pass it signed
		// expires; a key that signed nothing until now.
		if _, err := tx.Exec(ctx, `UPDATE keys SET retired = ?,
			not_after = coalesce((SELECT max(valid_until) FROM passes WHERE passes.key = keys.id AND valid_until > ?), ?)
			WHERE retired IS NULL`, unix(now), unix(now), unix(now)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO keys (id, public, created) VALUES (?, ?, ?)`, id, []byte(pub), unix(now)); err != nil {
			return err
		}
		recorded = true
		return nil
	})
	if err != nil {
		if wrote && !recorded {
			// Only a key the transaction did not record: one whose commit
			// failed may be recorded all the same, and keeps its file.
			os.Remove(s.keyPath(id))
		}
		if errors.Is(err, ErrKeyExists) || errors.Is(err, ErrNoKey) {
			return Key{}, err
		}
		if id == "" {
			return Key{}, fmt.Errorf("record a new key: %w", err)
		}
		return Key{}, fmt.Errorf("record key %s: %w", id, err)
	}
	return Key{PublicKey: protocol.PublicKey{ID: id, Key: pub, Created: now}, Current: true}, nil
}

// writeKey writes a private key's file, mode 0600, synced. A file of that
// name is left from a key never recorded (a crash between writing it and
// the commit): the caller holds the key set's lock and id is not
// recorded, so no one uses it, and it is replaced.
func (s *Store) writeKey(id string, priv ed25519.PrivateKey) error {
	path := s.keyPath(id)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("replace the unused private key file %s: %w", path, err)
		}
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}
	if err != nil {
		return fmt.Errorf("write private key: %w", err)
	}
	_, werr := f.WriteString(hex.EncodeToString(priv.Seed()) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("write private key %s: %w", path, err)
	}
	return nil
}

// holdKeySet keeps the key set as it is until tx ends. On PostgreSQL it
// share-locks the key set's version row, which every key change bumps
// first: a pass is signed with the key still current when it commits,
// and a rotation, waiting for the passes being issued, counts each of
// them in its retiring key's not_after. SQLite's transactions hold the
// write lock from their start and need nothing; FOR SHARE is not SQLite.
func holdKeySet(ctx context.Context, tx sqlstore.Tx) error {
	if tx.Engine != sqlstore.Postgres {
		return nil
	}
	_, err := tx.Exec(ctx, `SELECT version FROM versions WHERE name = 'keys' FOR SHARE`)
	return err
}

func (s *Store) keyPath(id string) string { return filepath.Join(s.dir, KeysDir, id+".key") }

// Keys lists every key, oldest first.
func (s *Store) Keys(ctx context.Context) ([]Key, error) {
	rows, err := s.db.Query(ctx, `SELECT id, public, created, retired, not_after, withdrawn,
		(SELECT count(*) FROM passes WHERE passes.key = keys.id) FROM keys ORDER BY created, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []Key
	for rows.Next() {
		var k Key
		var pub []byte
		var created int64
		var retired, notAfter, withdrawn sql.NullInt64
		if err := rows.Scan(&k.ID, &pub, &created, &retired, &notAfter, &withdrawn, &k.Passes); err != nil {
			return nil, err
		}
		k.Key = ed25519.PublicKey(pub)
		k.Created = time.Unix(created, 0).UTC()
		k.Retired, k.NotAfter, k.Withdrawn = fromUnix(retired), fromUnix(notAfter), fromUnix(withdrawn)
		k.Current = k.Retired == nil
		list = append(list, k)
	}
	return list, rows.Err()
}

// KeySet is the downlink payload: every key kiosks should accept. Keys
// whose not_after has passed stay listed (a kiosk then says "retired key"
// rather than "unknown key") for a year, then drop out.
func (s *Store) KeySet(ctx context.Context) (protocol.KeySet, error) {
	// The version first: a key changed between the two reads is then
	// published again under the next version, never missed under this one.
	v, err := s.version(ctx, "keys")
	if err != nil {
		return protocol.KeySet{}, err
	}
	keys, err := s.Keys(ctx)
	if err != nil {
		return protocol.KeySet{}, err
	}
	if len(keys) == 0 {
		return protocol.KeySet{}, ErrNoKey
	}
	now := s.now().UTC().Truncate(time.Second)
	ks := protocol.KeySet{Version: v, Issued: now, Keys: []protocol.PublicKey{}}
	for _, k := range keys {
		if k.Withdrawn != nil || (k.NotAfter != nil && now.Sub(*k.NotAfter) > 365*24*time.Hour) {
			continue
		}
		ks.Keys = append(ks.Keys, k.PublicKey)
	}
	if n := len(ks.Keys); n > protocol.MaxKeys {
		ks.Keys = ks.Keys[n-protocol.MaxKeys:]
	}
	return ks, ks.Validate()
}

// signer returns the current key's id and private half, and keeps the
// key set as it is until tx ends (holdKeySet).
func (s *Store) signer(ctx context.Context, tx sqlstore.Tx) (string, ed25519.PrivateKey, error) {
	if err := holdKeySet(ctx, tx); err != nil {
		return "", nil, err
	}
	var id string
	var pub []byte
	err := tx.QueryRow(ctx, `SELECT id, public FROM keys WHERE retired IS NULL ORDER BY created DESC LIMIT 1`).Scan(&id, &pub)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, ErrNoKey
	}
	if err != nil {
		return "", nil, err
	}
	priv, err := s.private(id, pub)
	if err != nil {
		return "", nil, err
	}
	return id, priv, nil
}

// CanSign says whether this hub holds the private half of the current
// signing key (nil), or why it cannot issue passes: no key yet
// (ErrNoKey), or its file missing, damaged or not the recorded key's.
// A hub on a shared database checks it at start.
func (s *Store) CanSign(ctx context.Context) error {
	var id string
	var pub []byte
	err := s.db.QueryRow(ctx, `SELECT id, public FROM keys WHERE retired IS NULL ORDER BY created DESC LIMIT 1`).Scan(&id, &pub)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNoKey
	}
	if err != nil {
		return err
	}
	_, err = s.private(id, pub)
	return err
}

// private reads the private half of key id, whose public half is pub.
func (s *Store) private(id string, pub []byte) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(s.keyPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the current signing key %s has no private key file %s here: it was made by another hub "+
			"on this database; copy %s.key from that hub's keys folder, or give every hub that issues passes one keys folder "+
			"(docs/scale.md)", id, s.keyPath(id), id)
	}
	if err != nil {
		return nil, fmt.Errorf("read private key %s: %w", id, err)
	}
	seed, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("private key %s is damaged", s.keyPath(id))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if !priv.Public().(ed25519.PublicKey).Equal(ed25519.PublicKey(pub)) {
		return nil, fmt.Errorf("private key %s does not match the recorded public key", s.keyPath(id))
	}
	return priv, nil
}

// WithdrawKey takes a retired key out of the key set for good, when its
// private half has leaked: kiosks then refuse every pass it signed
// ("unknown key"), so re-issue them. The current key cannot be withdrawn:
// rotate first.
func (s *Store) WithdrawKey(ctx context.Context, id string) error {
	return s.db.Tx(ctx, func(tx sqlstore.Tx) error {
		if err := bump(ctx, tx, "keys"); err != nil { // first: key changes one at a time
			return err
		}
		var retired sql.NullInt64
		err := tx.QueryRow(ctx, `SELECT retired FROM keys WHERE id = ?`, id).Scan(&retired)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: no key %s", ErrBadRequest, id)
		}
		if err != nil {
			return err
		}
		if !retired.Valid {
			return fmt.Errorf("%w: %s is the current key: run `hub keys rotate` first, then withdraw it", ErrBadRequest, id)
		}
		_, err = tx.Exec(ctx, `UPDATE keys SET withdrawn = ? WHERE id = ? AND withdrawn IS NULL`, unix(s.now()), id)
		return err
	})
}
