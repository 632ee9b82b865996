package server

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gatepost/gatepost/hub/broker"
	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/internal/clock"
)

// Who may use the hub: the kiosk registry, the hub's own broker login, the
// TLS files, the embedded broker's access rule and the watcher that ends
// the session of a kiosk no longer admitted.

// Off turns a listener off (--mqtt-listen off, --mqtts-listen off).
const Off = "off"

// Default TLS addresses, used when `hub tls init` has been run and the
// flags are left empty.
const (
	DefaultMQTTSListen  = ":8883"
	DefaultEnrollListen = ":8443"
)

// accessEvery is how often connected kiosks are checked against the
// registry: a retired kiosk's session ends within it.
const accessEvery = time.Second

// access is the server's part that decides who is admitted.
type access struct {
	registry *registry.Store
	cache    *registry.Cache // admit's and kioskKey's answers, read again when the register changes
	hubUser  string
	hubPass  string
	tls      *pki.Files // nil before `hub tls init`
	// inTransition says whether a site's kiosks that are not enrolled yet
	// are still admitted; nil admits none.
	inTransition func(ctx context.Context, site string) (time.Time, bool)
	refused      atomic.Uint64
	// checked is the register's generation at the last full check of the
	// connected kiosks (watchAccess alone uses it); -1 before the first.
	// With no site in transition, only a change to the register can make
	// a connected kiosk unadmitted.
	checked      int64
	transitional bool // a site was in transition at that check
}

// openAccess opens the registry, the hub's login and the TLS files.
func (s *Server) openAccess(cfg Config) (err error) {
	dir := datadir.Dir{Path: cfg.DataDir, Clock: cfg.Clock, Database: cfg.Database}
	if s.access.registry, err = dir.OpenRegistry(); err != nil {
		return err
	}
	if s.access.hubUser, s.access.hubPass, err = dir.BrokerLogin(); err != nil {
		return err
	}
	s.access.cache = &registry.Cache{Store: s.access.registry}
	s.access.inTransition = s.access.registry.InTransition
	s.access.checked = -1
	if _, err := os.Stat(filepath.Join(cfg.DataDir, pki.Dir, pki.CACert)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	s.access.tls, err = pki.Load(cfg.DataDir)
	return err
}

// closedHook is the embedded broker's access rule, on the registry.
func (s *Server) closedHook() *broker.Closed {
	return &broker.Closed{
		Kiosk: func(ctx context.Context, user, secret string) (string, string, bool) {
			k, ok := s.access.registry.Authenticate(ctx, user, secret)
			return k.Site, k.Kiosk, ok
		},
		HubUser:    s.access.hubUser,
		HubSecret:  s.access.hubPass,
		Transition: s.transition,
		Refused: func(user, why string) {
			s.access.refused.Add(1)
			s.log.Warn("broker refused a client", "user", user, "reason", why)
		},
	}
}

// transition admits a kiosk that is not enrolled yet while its site is in
// transition mode, and only a kiosk this hub already knew (it has sent
// entries before the upgrade) at that same site. site "" is an older
// kiosk's anonymous login: its site is the one it sent from.
func (s *Server) transition(ctx context.Context, site, kiosk string) (string, bool) {
	if s.access.inTransition == nil {
		return "", false
	}
	if k, err := s.access.registry.Get(ctx, kiosk); err == nil && k.State != registry.Pending {
		return "", false // enrolled kiosks use their login; retired ones stay out
	}
	known, err := s.store.Kiosks(ctx)
	if err != nil {
		return "", false
	}
	for _, k := range known {
		if k.Kiosk == kiosk && (site == "" || site == k.Site) {
			if _, ok := s.access.inTransition(ctx, k.Site); ok {
				return k.Site, true
			}
			return "", false
		}
	}
	return "", false
}

// watchAccess ends, within accessEvery, the session of every connected
// kiosk that is no longer admitted: retired, or not enrolled once its
// site's transition ended.
func (s *Server) watchAccess(ctx context.Context) {
	t := clock.Or(s.clock).NewTicker(accessEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		if n := s.cutUnadmitted(ctx); n > 0 {
			s.log.Info("ended the sessions of kiosks no longer admitted", "sessions", n)
		}
	}
}

// cutUnadmitted checks every connected kiosk once and cuts those no longer
// admitted.
func (s *Server) cutUnadmitted(ctx context.Context) int {
	connected := s.broker.Connected()
	if len(connected) == 0 {
		return 0
	}
	gen, err := s.access.registry.Generation(ctx)
	if err == nil && gen == s.access.checked && !s.access.transitional {
		return 0 // nothing changed since a full check: the register is not read for every kiosk each second
	}
	if ts, terr := s.access.registry.Transitions(ctx); terr == nil {
		s.access.transitional = len(ts) > 0
	} else {
		s.access.transitional = true // unknown: check fully next time too
	}
	s.access.checked = gen
	if err != nil {
		s.access.checked = -1
	}
	list, err := s.access.registry.List(ctx)
	if err != nil {
		s.log.Warn("cannot read the kiosk registry to check sessions", "err", err)
		return 0
	}
	state := map[string]registry.State{}
	for _, k := range list {
		state[k.Site+"/"+k.Kiosk] = k.State
	}
	cut := map[string]bool{}
	for _, id := range connected {
		switch state[id] {
		case registry.Enrolled:
			continue
		case registry.Retired:
			cut[id] = true
		default: // admitted only in transition
			site, _, _ := strings.Cut(id, "/")
			if s.access.inTransition == nil {
				cut[id] = true
			} else if _, ok := s.access.inTransition(ctx, site); !ok {
				cut[id] = true
			}
		}
	}
	if len(cut) == 0 {
		return 0
	}
	for id := range cut {
		s.log.Warn("ending a kiosk's session: it is no longer admitted", "kiosk", id, "state", string(state[id]))
	}
	return s.broker.Cut(cut)
}

// checkPlain refuses plain MQTT off loopback: anyone on the path could
// read visitors' names and forge nothing only because logins are checked.
func checkPlain(addr string, allow bool) error {
	if addr == "" || addr == Off || allow {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("plain MQTT on %s would carry visitors' names and the kiosks' logins in clear text off this machine: "+
		"serve TLS (`hub tls init --name HOST`, then --mqtts-listen) and keep --mqtt-listen on 127.0.0.1, "+
		"or pass --allow-plain-mqtt on a network you trust", addr)
}

// linkLogin is how the hub's own client logs in: to the embedded broker
// with the data folder's account (and, TLS only, trusting the hub's CA);
// to an external one as configured.
func (s *Server) linkLogin(cfg Config) (brokerLogin, error) {
	if s.broker == nil {
		return cfg.brokerLogin()
	}
	l := brokerLogin{user: s.access.hubUser, password: s.access.hubPass}
	if strings.HasPrefix(s.brokerURL, "tls://") {
		tc, err := pki.ClientConfig(s.access.tls.CAPEM())
		if err != nil {
			return l, err
		}
		tc.ServerName = s.access.tls.Names()[0] // the certificate need not name 127.0.0.1
		l.tls = tc
	}
	return l, nil
}

// warnTransitions says at start which sites still admit kiosks that are
// not enrolled, and until when.
func (s *Server) warnTransitions(ctx context.Context) {
	ts, err := s.access.registry.Transitions(ctx)
	if err != nil {
		s.log.Warn("cannot read the sites in transition", "err", err)
		return
	}
	for _, t := range ts {
		if t.Active {
			s.log.Warn("site in transition: its kiosks that are not enrolled are still admitted until the deadline; enroll them",
				"site", t.Site, "deadline", t.Deadline.Format(time.RFC3339))
		}
	}
}

// kioskKey is the key kiosk enrolled with, against which ingest checks
// each batch's signature; nil for a kiosk the register does not hold as
// enrolled, which admit let in only during its site's transition. It is
// read through the register's cache, as admit is.
func (s *Server) kioskKey(ctx context.Context, site, kiosk string) (ed25519.PublicKey, error) {
	k, err := s.access.cache.Key(ctx, kiosk)
	if errors.Is(err, registry.ErrUnknown) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return k, nil // nil while pending
}

// chainOff is the context the hub's work runs under: with
// Config.NoChain, the cost benchmark's baseline, signatures go unchecked
// and the store keeps no chain.
func (s *Server) chainOff(cfg Config) context.Context {
	if !cfg.NoChain {
		return context.Background()
	}
	s.ingest.KioskKey = nil
	return records.WithoutChain(context.Background())
}

// admit is ingest's check: the hub takes messages from an enrolled kiosk
// at its own site, and from a kiosk it knew before the upgrade while its
// site is in transition. With an external broker this is what refuses a
// retired kiosk until the broker's files are reloaded. The register is
// read through its cache: a change by any process is seen within
// registry.DefaultCheckEvery, and ingest keeps each answer AdmitFor on
// top of that.
func (s *Server) admit(ctx context.Context, site, kiosk string) error {
	err := s.access.cache.Admit(ctx, site, kiosk)
	if errors.Is(err, registry.ErrUnknown) {
		if got, ok := s.transition(ctx, site, kiosk); ok && got == site {
			return nil
		}
	}
	return err
}
