package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gatepost/gatepost/hub/broker"
	"github.com/gatepost/gatepost/hub/console"
	"github.com/gatepost/gatepost/hub/downlink"
	"github.com/gatepost/gatepost/hub/ingest"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
)

// The store satisfies what each part needs of it.
var (
	_ ingest.Store    = (*records.SQLite)(nil)
	_ console.Records = (*records.SQLite)(nil)
)

// startTimeout bounds how long Open waits for the hub's client to subscribe
// to the embedded broker, which is in the same process and should take
// milliseconds.
const startTimeout = 10 * time.Second

// Server is a running hub.
type Server struct {
	log       *slog.Logger
	store     *records.SQLite
	passes    *passes.Store
	console   *console.Console
	jobs      *jobs
	broker    *broker.Broker // nil with an external broker
	brokerURL string
	link      *link
	ingest    *ingest.Ingest
	http      *http.Server
	httpLn    net.Listener

	stop      context.CancelFunc // stops the ingest loop
	wg        sync.WaitGroup     // the ingest loop and the HTTP server
	closeOnce sync.Once
	closeErr  error
}

// Open starts a hub and returns once the console and the embedded broker
// listen and the hub is subscribed to it. With an external broker, Open
// does not wait for it: the client keeps connecting in the background (see
// Subscribed). ctx bounds the start only; Close stops the hub.
func Open(ctx context.Context, cfg Config) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{log: cfg.Logger}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()

	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("open hub: %w", err)
	}
	if s.store, err = records.OpenLogged(filepath.Join(cfg.DataDir, "hub.db"), s.log.With("component", "records")); err != nil {
		return nil, fmt.Errorf("open hub: %w", err)
	}
	s.store.SkewLimit = cfg.SkewLimit
	if s.passes, err = passes.Open(cfg.DataDir, time.Now); err != nil {
		return nil, fmt.Errorf("open hub: %w", err)
	}

	s.brokerURL = cfg.Broker
	if cfg.Broker == "" {
		s.broker, err = broker.Start(ctx, broker.Config{
			Listen: cfg.MQTTListen, Logger: s.log.With("component", "broker"),
		})
		if err != nil {
			return nil, fmt.Errorf("open hub: %w", err)
		}
		s.brokerURL = s.broker.URL()
	}

	if s.jobs, err = openJobs(cfg.DataDir, s.store, nil, s.log); err != nil {
		return nil, fmt.Errorf("open hub: %w", err)
	}
	feed := newPassFeed(s, s.passes, cfg.PassesEvery, cfg.PassesRefresh)
	cons, err := console.New(console.Config{Records: s.store, Operators: s.jobs.operators, Passes: s.passes,
		Log: s.log.With("component", "console"), Publisher: s, ManagePasses: s.passes, PassesChanged: feed.notify})
	if err != nil {
		return nil, fmt.Errorf("open hub: %w", err)
	}
	s.console = cons
	if s.httpLn, err = new(net.ListenConfig).Listen(ctx, "tcp", cfg.HTTPListen); err != nil {
		return nil, fmt.Errorf("open hub: console: %w", err)
	}

	if s.link, err = newLink(s.brokerURL, s.log.With("component", "mqtt"), s.republishDownlinks); err != nil {
		return nil, fmt.Errorf("open hub: %w", err)
	}
	s.ingest = &ingest.Ingest{
		Store:     s.store,
		Publish:   s.link.publish,
		Logger:    s.log.With("component", "ingest"),
		SkewLimit: cfg.SkewLimit,
	}
	// The console starts once everything /metrics reads exists.
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler())
	mux.Handle("/", cons)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.http.RegisterOnShutdown(cons.Stop) // live streams end, so Shutdown need not wait for them
	s.wg.Go(func() {
		if err := s.http.Serve(s.httpLn); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("console stopped", "err", err)
		}
	})

	// One goroutine handles every batch, so the acks of a kiosk go out in
	// the order its batches arrived.
	runCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.wg.Go(func() { s.runIngest(runCtx) })
	if err := s.jobs.start(runCtx, &s.wg, cons); err != nil {
		return nil, fmt.Errorf("open hub: %w", err)
	}
	s.wg.Go(func() { feed.run(runCtx) })

	if s.broker != nil {
		timer := time.NewTimer(startTimeout)
		defer timer.Stop()
		select {
		case <-s.link.subscribed:
		case <-ctx.Done():
			return nil, fmt.Errorf("open hub: waiting for the subscription: %w", ctx.Err())
		case <-timer.C:
			return nil, fmt.Errorf("open hub: the hub's client did not subscribe to the embedded broker at %s within %s",
				s.brokerURL, startTimeout)
		}
	}
	s.log.Info("hub running", "broker", s.brokerURL, "console", s.ConsoleURL(), "data", cfg.DataDir)
	return s, nil
}

func (s *Server) runIngest(ctx context.Context) {
	// Two stages: one goroutine decodes (JSON, gzip, checks), the other
	// stores and acks, so a batch is parsed while the previous one is
	// being written. Both are single, so a kiosk's acks go out in the
	// order its batches arrived; alerts are taken first at the decode
	// stage and wait behind at most cap(decoded) batches at the store.
	decoded := make(chan ingest.Decoded, 2)
	go func() {
		defer close(decoded)
		for {
			var m message
			select {
			case m = <-s.link.alerts:
			default:
				select {
				case <-ctx.Done():
					return
				case m = <-s.link.alerts:
				case m = <-s.link.inbox:
				}
			}
			select {
			case decoded <- s.ingest.Decode(m.topic, m.payload):
			case <-ctx.Done():
				return
			}
		}
	}()
	for d := range decoded {
		// Save logs what it refuses or fails to do; a kiosk re-sends
		// whatever is not acknowledged.
		_ = s.ingest.Save(ctx, d)
	}
}

// PublishDownlink issues the next version of a downlink message of kind
// for every kiosk of site (kiosk "") or for one kiosk, stores it, and
// publishes it retained. payload must be a JSON object; for "config" it is
// a protocol.ConfigPayload. Kiosks keep the highest version they receive,
// so a message published while a kiosk is offline reaches it on connect.
func (s *Server) PublishDownlink(ctx context.Context, site, kiosk string, kind protocol.DownlinkKind,
	payload json.RawMessage) (protocol.Downlink, error) {
	// Stored first: if the broker is away now, the next connect republishes,
	// so there is no point in waiting for a PUBACK that cannot come.
	publish := func(ctx context.Context, topic string, body []byte) error {
		if !s.BrokerConnected() {
			return fmt.Errorf("not connected to the broker %s", s.brokerURL)
		}
		return s.link.publish(ctx, topic, body)
	}
	return downlink.Issue(ctx, s.store, publish, site, kiosk, kind, payload, time.Now())
}

// republishDownlinks runs after each subscription: a restarted broker may
// have lost its retained messages, and kiosks must find the latest.
func (s *Server) republishDownlinks(l *link) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	ds, err := s.store.Downlinks(ctx)
	if err != nil {
		s.log.Error("cannot read downlinks to republish", "err", err)
		return
	}
	for _, d := range ds {
		if err := downlink.Publish(ctx, l.publish, d); err != nil {
			s.log.Warn("downlink not republished; next connect tries again", "kind", d.Kind, "site", d.Site, "err", err)
			return
		}
	}
}

// BrokerConnected reports whether the hub's MQTT client is connected now.
func (s *Server) BrokerConnected() bool { return s.link != nil && s.link.client.IsConnectionOpen() }

var _ console.Publisher = (*Server)(nil)

// IngestStats returns the ingest counters.
func (s *Server) IngestStats() ingest.Stats { return s.ingest.Stats() }

// BrokerURL returns the URL kiosks connect to: the embedded broker's, e.g.
// "tcp://127.0.0.1:1883", or the external one configured.
func (s *Server) BrokerURL() string { return s.brokerURL }

// ConsoleURL returns the console's URL, e.g. "http://127.0.0.1:8081/".
func (s *Server) ConsoleURL() string { return "http://" + dialAddr(s.httpLn.Addr()) + "/" }

// Subscribed is closed once the hub's client has first subscribed to the
// kiosks' entries. Open waits for it with the embedded broker; with an
// external one, callers that must not publish too early wait on it.
func (s *Server) Subscribed() <-chan struct{} { return s.link.subscribed }

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
		if s.link != nil {
			s.link.close()
			if s.broker != nil && !s.broker.WaitGone(s.link.id, time.Second) {
				s.log.Warn("the hub's MQTT client still attached to the embedded broker after 1s; closing it anyway")
			}
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
		errs = append(errs, s.jobs.close())
		if s.store != nil {
			errs = append(errs, s.store.Close())
		}
		if s.passes != nil {
			errs = append(errs, s.passes.Close())
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
