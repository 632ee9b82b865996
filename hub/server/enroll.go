package server

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatepost/gatepost/hub/enroll"
	"github.com/gatepost/gatepost/hub/pki"
)

// enrollment is the HTTPS listener kiosks redeem their codes at (`kiosk
// enroll CODE`): on its own port, with the hub's certificate (which
// carries the CA the code pins), so that the console can stay on
// loopback.
type enrollment struct {
	srv     *http.Server
	ln      net.Listener
	refused sync.Map // reason -> *atomic.Uint64
}

// openEnroll starts the enrollment listener once `hub tls init` has been
// run (on DefaultEnrollListen unless configured), or refuses an address
// given without certificates.
func (s *Server) openEnroll(ctx context.Context, cfg Config) error {
	switch {
	case cfg.EnrollListen == Off:
		return nil
	case s.access.tls == nil && cfg.EnrollListen != "":
		return fmt.Errorf("enrollment on %s needs the hub's certificates: run `hub tls init --name HOST` first", cfg.EnrollListen)
	case s.access.tls == nil:
		return nil // enrollment by code needs TLS; `hub kiosks add` still works
	}
	h, err := enroll.New(enroll.Config{
		Registry:    s.access.registry,
		DownlinkKey: s.downlinkKey.Public().(ed25519.PublicKey),
		CAPEM:       s.access.tls.CAPEM(),
		Broker:      s.advertisedBroker(cfg),
		Clock:       s.clock,
		Logger:      s.log.With("component", "enroll"),
		Refused: func(reason string) {
			c, _ := s.enroll.refused.LoadOrStore(reason, new(atomic.Uint64))
			c.(*atomic.Uint64).Add(1)
		},
	})
	if err != nil {
		return err
	}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", cmp.Or(cfg.EnrollListen, DefaultEnrollListen))
	if err != nil {
		return fmt.Errorf("enrollment listener: %w", err)
	}
	s.enroll.ln = ln
	s.enroll.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
	s.wg.Go(func() {
		if err := s.enroll.srv.Serve(tls.NewListener(ln, s.access.tls.ServerConfig())); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("enrollment listener stopped", "err", err)
		}
	})
	return nil
}

// advertisedBroker is the broker URL an enrollment answer gives: as
// configured; else the embedded broker's TLS listener on the name the
// kiosk reached the hub by; else the external broker; else (a loopback
// hub with no TLS listener) the plain one, usable on this machine only.
func (s *Server) advertisedBroker(cfg Config) func(string) string {
	switch {
	case cfg.AdvertiseBroker != "":
		return func(string) string { return cfg.AdvertiseBroker }
	case s.broker != nil && s.broker.TLSPort() != "":
		return enroll.TLSBroker(s.broker.TLSPort())
	default:
		url := s.brokerURL
		return func(string) string { return url }
	}
}

// EnrollAddr is the enrollment listener's address as kiosks dial it
// (the certificate's first name and the port), or "" when it is off.
func (s *Server) EnrollAddr() string {
	if s.enroll.ln == nil {
		return ""
	}
	_, port, _ := net.SplitHostPort(s.enroll.ln.Addr().String())
	return net.JoinHostPort(s.access.tls.Names()[0], port)
}

// tlsFiles loads the hub's certificates for the console's enrollment
// form: read each time, so a `hub tls renew` is seen without a restart.
func (s *Server) tlsFiles(dataDir string) func() (*pki.Files, error) {
	return func() (*pki.Files, error) { return pki.Load(dataDir) }
}

// closeEnroll stops the enrollment listener.
func (s *Server) closeEnroll() error {
	if s.enroll.srv == nil {
		if s.enroll.ln != nil {
			s.enroll.ln.Close()
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.enroll.srv.Shutdown(ctx)
}
