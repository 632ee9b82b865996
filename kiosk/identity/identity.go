// Package identity keeps a kiosk's Ed25519 key: made once, with the data
// folder, readable by the kiosk's user alone, and never copied out. The
// kiosk proves with it who it is when it enrolls at the hub, and (later)
// signs what it sends.
//
// The kiosk's commands and daemon import identity; it imports protocol.
package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gatepost/gatepost/protocol"
)

// FileName is the key's file in the kiosk's data folder.
const FileName = "identity.key"

// ErrExposed: the key file can be read or written by others than its
// owner, so it may have been copied; the kiosk refuses to use it.
var ErrExposed = errors.New("the kiosk key file is readable by others")

// Key is a kiosk's key pair.
type Key struct {
	Private ed25519.PrivateKey
	Public  ed25519.PublicKey
	Path    string
}

// Fingerprint is the key's fingerprint for people (protocol.Fingerprint).
func (k *Key) Fingerprint() string { return protocol.Fingerprint(k.Public) }

// LoadOrCreate reads the key in dataDir, or makes one if there is none.
// A new key is written 0600 through a temporary file renamed into place,
// so a crash leaves either no key or a whole one. created says which.
func LoadOrCreate(dataDir string) (k *Key, created bool, err error) {
	path := filepath.Join(dataDir, FileName)
	k, err = Load(dataDir)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("make kiosk key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, false, fmt.Errorf("make kiosk key: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("make kiosk key: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, FileName+".*")
	if err != nil {
		return nil, false, fmt.Errorf("make kiosk key: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is nothing to remove
	if err = tmp.Chmod(0o600); err == nil {
		err = pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			// Link, not rename: it fails if another process made the key
			// meanwhile, so two starts never end with two keys.
			err = os.Link(tmp.Name(), path)
		}
	}
	if err != nil {
		tmp.Close()
		if errors.Is(err, fs.ErrExist) {
			k, err = Load(dataDir)
			return k, false, err
		}
		return nil, false, fmt.Errorf("make kiosk key %s: %w", path, err)
	}
	return &Key{Private: priv, Public: priv.Public().(ed25519.PublicKey), Path: path}, true, nil
}

// Load reads the key in dataDir; fs.ErrNotExist if there is none.
func Load(dataDir string) (*Key, error) {
	path := filepath.Join(dataDir, FileName)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("kiosk key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %v; it must be 0600 (chmod 600 %s), and if others may have copied it, retire the kiosk at the hub and enroll it again with a new key",
			ErrExposed, path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kiosk key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("kiosk key %s: not a PEM private key; the file is damaged", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("kiosk key %s: %w", path, err)
	}
	priv, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("kiosk key %s: a %T, not an Ed25519 key", path, parsed)
	}
	return &Key{Private: priv, Public: priv.Public().(ed25519.PublicKey), Path: path}, nil
}
