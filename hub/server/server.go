package server

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatepost/gatepost/hub/alerts"
	"github.com/gatepost/gatepost/hub/broker"
	"github.com/gatepost/gatepost/hub/console"
	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/ingest"
	"github.com/gatepost/gatepost/hub/leader"
	"github.com/gatepost/gatepost/hub/link"
	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/sdnotify"
	"github.com/gatepost/gatepost/protocol"
)

// The parts satisfy what each other part needs of them.
var (
	_ ingest.Store      = (*records.SQLite)(nil)
	_ console.Records   = (*records.SQLite)(nil)
	_ ingest.Source     = (*link.Link)(nil)
	_ console.Publisher = (*Server)(nil)
	_ passes.FeedHub    = feedHub{}
)

// startTimeout bounds how long Open waits for the hub's client to subscribe
// to the embedded broker, which is in the same process and should take
// milliseconds.
const startTimeout = 10 * time.Second

// Server is a running hub.
type Server struct {
	log       *slog.Logger
	clock     clock.Clock
	store     *records.SQLite
	passes    *passes.Store
	operators *operators.Store // console.db: people, sessions, audit, alerts, settings
	console   *console.Console
	jobs      *jobs
	broker    *broker.Broker // nil with an external broker
	access    access
	enroll    enrollment
	verify    *verifier // the scheduled walk of the stored chains
	brokerURL string
	link      *link.Link
	ingest    *ingest.Ingest
	http      *http.Server
	httpLn    net.Listener
	web       web // the console's TLS and the metrics' own listener (webhttp.go)

	stop      context.CancelFunc // stops the background loops
	wg        sync.WaitGroup     // the background loops and the HTTP server
	closeOnce sync.Once
	closeErr  error

	notify        *sdnotify.Notifier // Config.Notify (ready.go)
	ingestStopped atomic.Bool        // the ingest loop returned (ready.go)

	// downlinkKey signs every downlink (datadir.Dir.DownlinkKey): the
	// kiosks pinned its public half at enrollment.
	downlinkKey ed25519.PrivateKey
}

// Open starts a hub and returns once the console and the embedded broker
// listen and the hub is subscribed to it. With an external broker, Open
// does not wait for it: the client keeps connecting in the background (see
// Subscribed). ctx bounds the start only; Run or Close stops the hub.
func Open(ctx context.Context, cfg Config) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{log: cfg.Logger, clock: cfg.Clock, notify: cfg.Notify}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := s.openStores(cfg); err != nil {
		return nil, fmt.Errorf("open hub: %w", err)
	}
	s.verify = &verifier{rec: s.store, clock: s.clock, every: cmp.Or(cfg.VerifyEvery, DefaultVerifyEvery)}
	if cfg.Database != "" { // other hubs may share the database: keep the walk's summary there for them
		s.verify.settings = s.operators
	}
	if err := s.openAccess(cfg); err != nil {
		return nil, fmt.Errorf("open hub: %w", err)
	}
	if err := s.checkShared(ctx, cfg); err != nil {
		return nil, fmt.Errorf("open hub: %w", err)
	}
	s.brokerURL = cfg.Broker
	if cfg.Broker == "" {
		if err := s.startBroker(ctx, cfg); err != nil {
			return nil, fmt.Errorf("open hub: %w", err)
		}
	}
	feed := passes.NewFeed(passes.FeedConfig{Store: s.passes, Hub: feedHub{s}, Every: cfg.PassesEvery,
		Refresh: cfg.PassesRefresh, Clock: s.clock, Logger: s.log})
	if err := s.openEnroll(ctx, cfg); err != nil {
		return nil, fmt.Errorf("open hub: %w", err)
	}
	s.jobs = &jobs{operators: s.operators, rec: s.store, clock: s.clock, log: s.log, refusals: alerts.NewRefusals(s.clock),
		replicas: cfg.Replicas,
		lead:     &leader.Runner{Elector: cfg.elector(), Clock: s.clock, Log: s.log.With("component", "leader")}}
	s.console, err = console.New(console.Config{Records: s.store, Operators: s.operators, Passes: s.passes, Clock: s.clock,
		Log: s.log.With("component", "console"), Publisher: s, ManagePasses: s.passes, PassesChanged: feed.Notify,
		Kiosks: s.access.registry, TLS: s.tlsFiles(cfg.DataDir), EnrollAddr: s.EnrollAddr(), Ready: s.readyz,
		SecureCookies: cfg.TLSCert != "" || cfg.BehindProxy})
	if err != nil {
		return nil, fmt.Errorf("open hub: %w", err)
	}

	if err := s.listenWeb(ctx, cfg); err != nil {
		return nil, fmt.Errorf("open hub: %w", err)
	}
	login, err := s.linkLogin(cfg)
	if err != nil {
		return nil, fmt.Errorf("open hub: %w", err)
	}
	lc := link.Config{Broker: s.brokerURL, Username: login.user, Password: login.password, TLS: login.tls,
		Logger: s.log.With("component", "mqtt"), Clock: s.clock, OnSubscribed: s.republishDownlinks, HoldFor: cfg.IngestHoldFor}
	cfg.replicaLink(&lc)
	s.link, err = link.Dial(lc)
	if err != nil {
		return nil, fmt.Errorf("open hub: %w", err)
	}
	s.ingest = s.newIngest(cfg)
	s.serveHTTP(cfg)

	runCtx, stop := context.WithCancel(s.chainOff(cfg))
	s.stop = stop
	s.wg.Go(func() {
		defer s.ingestStopped.Store(true)
		s.ingest.Run(runCtx, s.link)
	})
	if err := s.jobs.start(runCtx, &s.wg, s.console, onceJob{jobPasses, feed.Run},
		onceJob{jobVerify, func(ctx context.Context) { s.verify.run(ctx, s) }}); err != nil {
		return nil, fmt.Errorf("open hub: %w", err)
	}
	if s.broker != nil {
		s.wg.Go(func() { s.watchAccess(runCtx) })
	}

	if s.broker != nil {
		if err := s.waitSubscribed(ctx); err != nil {
			return nil, fmt.Errorf("open hub: %w", err)
		}
	}
	s.log.Info("hub running", "broker", s.brokerURL, "console", s.ConsoleURL(), "data", cfg.DataDir)
	s.warnTransitions(ctx)
	return s, nil
}

// openStores opens the records, the pass store and the console store (all in
// hub.db on SQLite, the old files merged into it first).
func (s *Server) openStores(cfg Config) (err error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return err
	}
	dir := datadir.Dir{Path: cfg.DataDir, Logger: s.log.With("component", "records"), Clock: cfg.Clock, Database: cfg.Database}
	if s.store, err = dir.OpenRecords(); err != nil {
		return err
	}
	s.store.SkewLimit, s.store.SeqWindow = cfg.SkewLimit, cfg.SeqWindow
	if s.passes, err = dir.OpenPasses(); err != nil {
		return err
	}
	if s.downlinkKey, err = dir.DownlinkKey(); err != nil {
		return err
	}
	s.operators, err = dir.OpenOperators()
	return err
}

// serveHTTP serves the console, and /metrics with a token unless they
// have their own listener.
func (s *Server) serveHTTP(cfg Config) {
	mux := http.NewServeMux()
	if s.web.metricsLn == nil {
		mux.Handle("GET /metrics", s.metricsWithToken(s.metricsHandler()))
	}
	mux.Handle("/", s.console)
	s.http = &http.Server{Handler: s.consoleHandler(mux, cfg.BehindProxy), ReadHeaderTimeout: 10 * time.Second}
	s.http.RegisterOnShutdown(s.console.Stop) // live streams end, so Shutdown need not wait for them
	s.wg.Go(func() {
		if err := s.http.Serve(s.httpLn); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("console stopped", "err", err)
		}
	})
}

// startBroker starts the embedded broker: plain TCP (loopback unless
// allowed) and, once `hub tls init` was run, MQTT over TLS.
func (s *Server) startBroker(ctx context.Context, cfg Config) (err error) {
	bc := broker.Config{Access: s.closedHook(), Logger: s.log.With("component", "broker")}
	if cfg.MQTTListen != Off {
		bc.Listen = cfg.MQTTListen
	}
	switch {
	case cfg.MQTTSListen == Off:
	case s.access.tls != nil:
		bc.TLSListen, bc.TLS = cmp.Or(cfg.MQTTSListen, DefaultMQTTSListen), s.access.tls.ServerConfig()
	case cfg.MQTTSListen != "":
		return fmt.Errorf("MQTT over TLS on %s needs the hub's certificates: run `hub tls init --name HOST` first", cfg.MQTTSListen)
	}
	if s.broker, err = broker.Start(ctx, bc); err != nil {
		return err
	}
	s.brokerURL = s.broker.URL()
	return nil
}

// waitSubscribed waits, at most startTimeout, for the link's first
// subscription to the embedded broker.
func (s *Server) waitSubscribed(ctx context.Context) error {
	timer := clock.Or(s.clock).NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-s.link.Subscribed():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the subscription: %w", ctx.Err())
	case <-timer.C():
		return fmt.Errorf("the hub's client did not subscribe to the embedded broker at %s within %s",
			s.brokerURL, startTimeout)
	}
}

// Run waits until ctx ends, then closes the hub: the whole life of `hub
// serve` after Open.
func (s *Server) Run(ctx context.Context) error {
	notified := make(chan struct{})
	go func() {
		defer close(notified)
		s.notifySystemd(ctx)
	}()
	<-ctx.Done()
	<-notified
	return s.Close()
}

// BrokerConnected reports whether the hub's MQTT client is connected now.
func (s *Server) BrokerConnected() bool { return s.link != nil && s.link.Connected() }

// IngestStats returns the ingest counters.
func (s *Server) IngestStats() ingest.Stats { return s.ingest.Stats() }

// BrokerURL returns the URL kiosks connect to: the embedded broker's, e.g.
// "tcp://127.0.0.1:1883", or the external one configured.
func (s *Server) BrokerURL() string { return s.brokerURL }

// ConsoleURL returns the console's URL, e.g. "http://127.0.0.1:8081/",
// https:// when the hub serves it over TLS.
func (s *Server) ConsoleURL() string {
	scheme := "http://"
	if s.web.tls {
		scheme = "https://"
	}
	return scheme + dialAddr(s.httpLn.Addr()) + "/"
}

// Subscribed is closed once the hub's client has first subscribed to the
// kiosks' entries. Open waits for it with the embedded broker; with an
// external one, callers that must not publish too early wait on it.
func (s *Server) Subscribed() <-chan struct{} { return s.link.Subscribed() }

// Close stops the console, the MQTT client, ingest, the embedded broker and
// the store, in that order, and waits for each. It is safe to call more
// than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.http == nil && s.httpLn != nil {
			s.httpLn.Close() // Open failed before serving
		}
		if s.http != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.http.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("close console: %w", err))
			}
			cancel()
		}
		if err := s.closeMetrics(); err != nil {
			errs = append(errs, fmt.Errorf("close metrics: %w", err))
		}
		if err := s.closeEnroll(); err != nil {
			errs = append(errs, fmt.Errorf("close enrollment: %w", err))
		}
		if s.link != nil {
			s.link.Close()
		}
		if s.stop != nil {
			s.stop()
		}
		s.wg.Wait()
		if s.broker != nil {
			errs = append(errs, s.broker.Close())
		}
		if s.console != nil {
			errs = append(errs, s.console.Close())
		}
		if s.operators != nil {
			errs = append(errs, s.operators.Close())
		}
		if s.store != nil {
			errs = append(errs, s.store.Close())
		}
		if s.passes != nil {
			errs = append(errs, s.passes.Close())
		}
		if s.access.registry != nil {
			errs = append(errs, s.access.registry.Close())
		}
		s.closeErr = errors.Join(errs...)
		s.log.Info("hub stopped")
	})
	return s.closeErr
}

// dialAddr returns host:port for dialing addr from this machine: an
// unspecified IP (a wildcard listen, which Go makes dual-stack) becomes
// 127.0.0.1.
func dialAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

// newIngest is the pipeline from the link to the store, its admission
// and refusal alarms wired to the register and the jobs.
func (s *Server) newIngest(cfg Config) *ingest.Ingest {
	return &ingest.Ingest{
		Store:     s.store,
		Publish:   s.link.Publish,
		Send:      s.link.Send,
		Logger:    s.log.With("component", "ingest"),
		Clock:     s.clock,
		SkewLimit: cfg.SkewLimit,
		Admit:     s.admit,
		KioskKey:  s.kioskKey,
		AdmitReasons: map[error]string{registry.ErrUnknown: protocol.RefusedNotEnrolled,
			registry.ErrRetired: protocol.RefusedRetired, registry.ErrTaken: protocol.RefusedWrongSite},
		Alarm:        s.jobs.refusals.Report,
		TestSite:     s.access.registry.IsTestSite,
		GroupBatches: cfg.IngestGroup,
		GroupEntries: ingestGroupEntries(cfg),
		GroupWait:    cmp.Or(cfg.IngestGroupWait, ingestGroupWait),
	}
}

// ingestGroupWait lets batches arriving apart (rush hour) share a commit:
// 50 ms of latency against a p99 goal of 1 s, for a third less CPU at
// rush hour (docs/benchmarks.md, Fleet).
const ingestGroupWait = 50 * time.Millisecond

// postgresGroupEntries bounds a group commit on PostgreSQL (ingest's
// default is for SQLite): an alert waits for the group being committed
// on its replica, and for the group another replica is storing its
// kiosk in, and a group of 2,048 entries took about half a second there.
// With three replicas after an outage the longest alert wait was 1.5 to
// 2.6 s with 2,048 and 0.7 s with 512, for about a tenth less ingest
// (docs/benchmarks.md, Fleet in session 9).
const postgresGroupEntries = 512

// ingestGroupEntries is --ingest-group-entries, or the default of the
// hub's engine.
func ingestGroupEntries(cfg Config) int {
	if cfg.IngestGroupEntries == 0 && cfg.Database != "" {
		return postgresGroupEntries
	}
	return cfg.IngestGroupEntries
}
