package server

import (
	"context"
	"crypto/ed25519"
	"errors"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/passes"
)

// checkShared refuses a hub on a shared database whose downlink key or
// CA is not the one the other hubs there use (datadir.CheckShared); the
// first records its own. A hub that cannot sign passes with the current
// key is told so (a warning: it runs, and issuing a pass there says the
// same).
func (s *Server) checkShared(ctx context.Context, cfg Config) error {
	if cfg.Database == "" {
		return nil
	}
	if err := s.passes.CanSign(ctx); err != nil && !errors.Is(err, passes.ErrNoKey) {
		s.log.Warn("this hub cannot issue passes", "err", err)
	}
	dir := datadir.Dir{Path: cfg.DataDir, Clock: cfg.Clock, Database: cfg.Database}
	return dir.CheckSharedIn(ctx, s.operators, datadir.DownlinkSecret(s.downlinkKey.Public().(ed25519.PublicKey)),
		datadir.CASecret(s.access.tls.CAOrNil()))
}
