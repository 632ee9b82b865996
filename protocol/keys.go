package protocol

import (
	"crypto/ed25519"
	"encoding/json"
	"time"
)

// MaxKeys bounds a key set: a hub rotates perhaps yearly, and keeps a
// retired key only until the last pass it signed expires.
const MaxKeys = 64

// KeySet is the hub's public pass keys, as the downlink carries them (kind
// "keys") to every kiosk. Version grows with every change.
type KeySet struct {
	Version uint64      `json:"version"`
	Issued  time.Time   `json:"issued"` // hub clock when made
	Keys    []PublicKey `json:"keys"`
}

// PublicKey is one hub signing key. A key signs new passes until Retired;
// kiosks accept passes it signed until NotAfter (the latest expiry of those
// passes), so rotating a key invalidates nothing already handed out.
type PublicKey struct {
	ID       string            `json:"id"`
	Key      ed25519.PublicKey `json:"public_key"` // 32 bytes, standard Base64 in JSON
	Created  time.Time         `json:"created"`
	Retired  *time.Time        `json:"retired,omitempty"`
	NotAfter *time.Time        `json:"not_after,omitempty"`
}

// Find returns the key with id, or nil.
func (s *KeySet) Find(id string) *PublicKey {
	for i := range s.Keys {
		if s.Keys[i].ID == id {
			return &s.Keys[i]
		}
	}
	return nil
}

// Validate checks s: ids well formed and unique, keys 32 bytes.
func (s *KeySet) Validate() error {
	switch {
	case s.Version == 0:
		return bad("version", "must be 1 or more")
	case s.Issued.IsZero():
		return missing("issued")
	case len(s.Keys) > MaxKeys:
		return bad("keys", "more than %d keys", MaxKeys)
	}
	seen := map[string]bool{}
	for i, k := range s.Keys {
		field := func(f string) string { return "keys[" + itoa(i) + "]." + f }
		switch {
		case len(k.ID) > MaxPassKeyID || !passIDPattern.MatchString(k.ID):
			return bad(field("id"), "must be 1-%d letters, digits, '-' or '_', got %q", MaxPassKeyID, k.ID)
		case seen[k.ID]:
			return bad(field("id"), "%q appears twice", k.ID)
		case len(k.Key) != ed25519.PublicKeySize:
			return bad(field("public_key"), "must be %d bytes, got %d", ed25519.PublicKeySize, len(k.Key))
		case k.Created.IsZero():
			return missing(field("created"))
		}
		seen[k.ID] = true
	}
	return nil
}

// EncodeKeySet validates s and returns its wire form.
func EncodeKeySet(s KeySet) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		V int `json:"v"`
		KeySet
	}{Version, s})
}

// DecodeKeySet parses and validates a key set.
func DecodeKeySet(data []byte) (KeySet, error) {
	var w struct {
		Version *uint64 `json:"version"`
		Issued  *string `json:"issued"`
		Keys    []struct {
			ID       string            `json:"id"`
			Key      ed25519.PublicKey `json:"public_key"`
			Created  *string           `json:"created"`
			Retired  *string           `json:"retired"`
			NotAfter *string           `json:"not_after"`
		} `json:"keys"`
	}
	if err := decodeVersioned(data, &w); err != nil {
		return KeySet{}, err
	}
	switch {
	case w.Version == nil:
		return KeySet{}, missing("version")
	case w.Keys == nil:
		return KeySet{}, missing("keys")
	case len(w.Keys) > MaxKeys:
		return KeySet{}, bad("keys", "more than %d keys", MaxKeys)
	}
	issued, err := parseTime("issued", w.Issued)
	if err != nil {
		return KeySet{}, err
	}
	s := KeySet{Version: *w.Version, Issued: issued, Keys: make([]PublicKey, len(w.Keys))}
	for i, k := range w.Keys {
		prefix := "keys[" + itoa(i) + "]"
		created, err := parseTime("created", k.Created)
		if err != nil {
			return KeySet{}, prefixed(prefix, err)
		}
		s.Keys[i] = PublicKey{ID: k.ID, Key: k.Key, Created: created}
		if s.Keys[i].Retired, err = optionalTime("retired", k.Retired); err != nil {
			return KeySet{}, prefixed(prefix, err)
		}
		if s.Keys[i].NotAfter, err = optionalTime("not_after", k.NotAfter); err != nil {
			return KeySet{}, prefixed(prefix, err)
		}
	}
	return s, s.Validate()
}

func optionalTime(field string, s *string) (*time.Time, error) {
	if s == nil {
		return nil, nil
	}
	t, err := parseTime(field, s)
	if err != nil {
		return nil, err
	}
	return &t, nil
}
