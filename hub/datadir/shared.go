package datadir

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"fmt"
	"path/filepath"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/protocol"
)

// Hubs on one database (--database, replicas) each keep their own data
// folder, and with it the secrets that kiosks pin: the downlink-signing
// key and the TLS CA. These must be the same on every hub and every
// command that hands them to kiosks, copied from the first hub's folder:
// a replica started on a new data folder would make a downlink key of
// its own, and every kiosk would refuse the revocations and settings it
// sends. The first to use the database records each secret's
// fingerprint there (never the secret); one whose own differ is refused,
// with the file to copy.

// Secret is one pinned secret of this data folder, by its fingerprint.
type Secret struct {
	key   string // in the console's settings
	what  string // in messages
	file  string // where it lives in the data folder
	print string // its fingerprint; "" when the folder has none
}

// DownlinkSecret is the downlink-signing key whose public half is pub.
func DownlinkSecret(pub ed25519.PublicKey) Secret {
	return Secret{"hub.shared.downlink_key", "downlink-signing key", DownlinkKeyFile, protocol.Fingerprint(pub)}
}

// CASecret is the TLS CA; nil for a folder without one.
func CASecret(ca *x509.Certificate) Secret {
	s := Secret{"hub.shared.ca", "TLS CA", filepath.Join(pki.Dir, pki.CACert), ""}
	if ca != nil {
		s.print = pki.Fingerprint(ca)
	}
	return s
}

// CheckShared refuses, with Database set, a secret of this data folder
// that is not the one the database records; the first of each is
// recorded. A secret the folder lacks is refused when the database
// records one. Without Database it checks nothing: one hub, one folder.
func (d Dir) CheckShared(ctx context.Context, secrets ...Secret) error {
	if d.Database == "" {
		return nil
	}
	ops, err := d.OpenOperators()
	if err != nil {
		return err
	}
	defer ops.Close()
	return d.CheckSharedIn(ctx, ops, secrets...)
}

// CheckSharedIn is CheckShared on the console's store already open on
// the database (hub serve's).
func (d Dir) CheckSharedIn(ctx context.Context, ops *operators.Store, secrets ...Secret) error {
	if d.Database == "" {
		return nil
	}
	for _, sec := range secrets {
		if sec.print == "" {
			have, err := ops.Setting(ctx, sec.key, "")
			if err != nil {
				return err
			}
			if have != "" {
				return fmt.Errorf("this data folder (%s) has no %s (%s), but the hubs on this database have one: "+
					"copy %s from a running hub's data folder", d.Path, sec.what, sec.file, sec.file)
			}
			continue
		}
		have, err := ops.ClaimSetting(ctx, sec.key, sec.print)
		if err != nil {
			return err
		}
		if have != sec.print {
			return fmt.Errorf("this data folder's %s (%s in %s) is not the one the hubs on this database use "+
				"(fingerprint %.16s…, theirs %.16s…): every hub on one database needs the same %s, or kiosks refuse "+
				"what it signs; copy %s from a running hub's data folder (docs/scale.md)",
				sec.what, sec.file, d.Path, sec.print, have, sec.file, sec.file)
		}
	}
	return nil
}

// SharedDownlinkKey is DownlinkKey, checked against the key the hubs on
// the database use (CheckShared): for commands that hand it to a kiosk or
// sign with it.
func (d Dir) SharedDownlinkKey(ctx context.Context) (ed25519.PrivateKey, error) {
	key, err := d.DownlinkKey()
	if err != nil {
		return nil, err
	}
	if err := d.CheckShared(ctx, DownlinkSecret(key.Public().(ed25519.PublicKey))); err != nil {
		return nil, err
	}
	return key, nil
}
