package datadir

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gatepost/gatepost/hub/registry"
)

// The files of the hub's own secrets in the data folder, each 0600.
const (
	// DownlinkKeyFile is the hub's downlink-signing key (Ed25519 seed,
	// base64url): separate from the pass-signing keys, pinned by every
	// kiosk at enrollment.
	DownlinkKeyFile = "downlink.key"
	// BrokerLoginFile is the hub's own broker password (the username is
	// HubUser): the embedded broker admits it, `hub broker-config`
	// writes it for Mosquitto, and the hub's commands use it to publish.
	BrokerLoginFile = "broker-login"
)

// HubUser is the hub's broker username (`hub serve`). It has no '/', so it
// can never be a kiosk's SITE/KIOSK. HubCLIUser is the same account's
// name for the hub's commands (`hub push`): a broker that binds client ids
// to usernames (Mosquitto's use_username_as_clientid) would otherwise
// let a command take the running hub's session over. Both log in with
// the BrokerLoginFile password.
const (
	HubUser    = "gatepost-hub"
	HubCLIUser = HubUser + "-cli"
)

// ErrExposed is returned for a secret file others can read.
var ErrExposed = errors.New("a hub secret file is readable by others")

// OpenRegistry opens the kiosk registry, creating it if needed: in
// PostgreSQL when Database is set, else in hub.db (the old files merged
// first).
func (d Dir) OpenRegistry() (*registry.Store, error) {
	if err := d.CheckDatabase(); err != nil {
		return nil, err
	}
	ctx := context.Background()
	if d.Database != "" {
		return registry.OpenPostgres(ctx, d.Database, d.Clock)
	}
	if err := d.Merge(ctx); err != nil {
		return nil, err
	}
	return registry.OpenShared(ctx, d.RecordsPath(), d.Clock)
}

// DownlinkKey returns the hub's downlink-signing key, making it on first
// use.
func (d Dir) DownlinkKey() (ed25519.PrivateKey, error) {
	b, err := loadOrCreate(filepath.Join(d.Path, DownlinkKeyFile), func() []byte {
		seed := make([]byte, ed25519.SeedSize)
		rand.Read(seed)
		return seed
	})
	if err != nil {
		return nil, err
	}
	if len(b) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s: not an Ed25519 seed (%d bytes): restore it from a backup; a new key would make every kiosk refuse the hub's downlinks",
			filepath.Join(d.Path, DownlinkKeyFile), len(b))
	}
	return ed25519.NewKeyFromSeed(b), nil
}

// BrokerLogin returns the hub's own broker login, making the password on
// first use.
func (d Dir) BrokerLogin() (user, password string, err error) {
	b, err := loadOrCreate(filepath.Join(d.Path, BrokerLoginFile), func() []byte {
		p := make([]byte, 32)
		rand.Read(p)
		return p
	})
	if err != nil {
		return "", "", err
	}
	if len(b) < 16 {
		return "", "", fmt.Errorf("%s: too short to be a password; delete it to make a new one", filepath.Join(d.Path, BrokerLoginFile))
	}
	return HubUser, base64.RawURLEncoding.EncodeToString(b), nil
}

// loadOrCreate reads a base64url secret file, or makes it with make().
// Two processes starting at once make one secret: the file is created
// exclusively, and the loser reads the winner's.
func loadOrCreate(path string, make func() []byte) ([]byte, error) {
	for range 2 {
		b, err := read(path)
		if !errors.Is(err, fs.ErrNotExist) {
			return b, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, err
		}
		tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
		if err != nil {
			return nil, err
		}
		_, werr := tmp.WriteString(base64.RawURLEncoding.EncodeToString(make()) + "\n")
		if werr == nil {
			werr = tmp.Sync()
		}
		if cerr := tmp.Close(); werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Link(tmp.Name(), path) // fails if another process made it first
		}
		os.Remove(tmp.Name())
		if werr != nil && !errors.Is(werr, fs.ErrExist) {
			return nil, fmt.Errorf("make %s: %w", path, werr)
		}
	}
	return read(path)
}

func read(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is %v; run chmod 600 %s", ErrExposed, path, fi.Mode().Perm(), path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("%s is damaged (not base64url): restore it from a backup", path)
	}
	return b, nil
}
