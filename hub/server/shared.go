package server

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/protocol"
)

// Hubs on one database (--database, replicas) each keep their own data
// folder, and with it the secrets that kiosks pin: the downlink-signing
// key and the TLS CA. These must be the same on every hub, copied from
// the first:
// a replica started on a new data folder would make a downlink key of
// its own, and every kiosk would refuse the revocations and settings it
// sends. The first hub on the database records each secret's fingerprint
// (never the secret); a hub whose own differ refuses to start and says
// which file to copy.

// sharedSecret is one secret's fingerprint under its settings key.
type sharedSecret struct {
	key   string // in the operators' settings
	what  string // in messages
	file  string // where it lives in the data folder
	print string // this hub's fingerprint; "" when it has none
}

// sharedSecrets are this hub's: the downlink key's fingerprint and the
// CA's. (The broker login is not among them: with an external broker
// each replica may log in with a name and password of its own.)
func (s *Server) sharedSecrets() []sharedSecret {
	ca := sharedSecret{"hub.shared.ca", "TLS CA", filepath.Join(pki.Dir, pki.CACert), ""}
	if s.access.tls != nil {
		ca.print = pki.Fingerprint(s.access.tls.CA)
	}
	return []sharedSecret{
		{"hub.shared.downlink_key", "downlink-signing key", datadir.DownlinkKeyFile,
			protocol.Fingerprint(s.downlinkKey.Public().(ed25519.PublicKey))},
		ca,
	}
}

// checkShared refuses a hub on a shared database whose secrets are not
// those the first hub recorded there; the first records its own. A hub
// that cannot sign passes with the current key is told so (a warning:
// it runs, and issuing a pass there says the same).
func (s *Server) checkShared(ctx context.Context, cfg Config) error {
	if cfg.Database == "" {
		return nil
	}
	if err := s.passes.CanSign(ctx); err != nil && !errors.Is(err, passes.ErrNoKey) {
		s.log.Warn("this hub cannot issue passes", "err", err)
	}
	for _, sec := range s.sharedSecrets() {
		if sec.print == "" { // no CA yet: nothing to claim; one recorded is checked below
			have, err := s.operators.Setting(ctx, sec.key, "")
			if err != nil {
				return err
			}
			if have != "" {
				return fmt.Errorf("this hub has no %s (%s in %s), but the other hubs on this database have one: "+
					"copy %s from a running hub's data folder", sec.what, sec.file, cfg.DataDir, sec.file)
			}
			continue
		}
		have, err := s.operators.ClaimSetting(ctx, sec.key, sec.print)
		if err != nil {
			return err
		}
		if have != sec.print {
			return fmt.Errorf("this hub's %s (%s in %s) is not the one the other hubs on this database use "+
				"(fingerprint %.16s…, theirs %.16s…): every hub on one database needs the same %s, or kiosks refuse "+
				"what this one sends; copy %s from a running hub's data folder (docs/scale.md)",
				sec.what, sec.file, cfg.DataDir, sec.print, have, sec.file, sec.file)
		}
	}
	return nil
}
