package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// hsts is sent with every console answer over the hub's own TLS: browsers
// then refuse plain HTTP to it for a year.
const hsts = "max-age=31536000"

// web is the console's listener, TLS or not, and the metrics' own
// listener when --metrics-listen is given.
type web struct {
	tls        bool // the console is served over TLS by the hub itself
	metricsLn  net.Listener
	metricsSrv *http.Server
}

// listenWeb opens the console's listener and, when asked, serves the
// metrics on their own.
func (s *Server) listenWeb(ctx context.Context, cfg Config) (err error) {
	if s.httpLn, err = s.consoleListener(ctx, cfg); err != nil {
		return err
	}
	if cfg.MetricsListen != "" {
		return s.serveMetrics(ctx, cfg.MetricsListen)
	}
	return nil
}

// consoleListener opens the console's listener: over TLS with the
// configured certificate and key, else plain.
func (s *Server) consoleListener(ctx context.Context, cfg Config) (net.Listener, error) {
	var cert tls.Certificate
	if cfg.TLSCert != "" {
		var err error
		if cert, err = tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			return nil, fmt.Errorf("console: the certificate %s and key %s %s do not load: %w", cfg.TLSCert, cfg.TLSKey, where("TLSCert"), err)
		}
	}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", cfg.HTTPListen)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	if cfg.TLSCert == "" {
		return ln, nil
	}
	s.web.tls = true
	return tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}), nil
}

// consoleHandler wraps the console's mux: HSTS over the hub's own TLS;
// behind a proxy, the client's address from X-Forwarded-For, believed
// only when the proxy is on this machine.
func (s *Server) consoleHandler(h http.Handler, behindProxy bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.web.tls {
			w.Header().Set("Strict-Transport-Security", hsts)
		}
		if behindProxy {
			r = fromProxy(r)
		}
		h.ServeHTTP(w, r)
	})
}

// fromProxy returns r with RemoteAddr set to the client the proxy saw:
// the last address of X-Forwarded-For (the one the proxy added), when r
// came from loopback. From anywhere else the header is anyone's to write,
// and is ignored, so a stranger cannot spread sign-in failures over
// invented addresses.
func fromProxy(r *http.Request) *http.Request {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return r
	}
	xff := r.Header.Values("X-Forwarded-For")
	if len(xff) == 0 {
		return r
	}
	parts := strings.Split(xff[len(xff)-1], ",")
	ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1]))
	if ip == nil {
		return r
	}
	r2 := r.Clone(r.Context())
	r2.RemoteAddr = net.JoinHostPort(ip.String(), "0")
	return r2
}

// serveMetrics serves /metrics alone, without sign-in, on addr.
func (s *Server) serveMetrics(ctx context.Context, addr string) error {
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler())
	s.web.metricsLn = ln
	s.web.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.wg.Go(func() {
		if err := s.web.metricsSrv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics listener stopped", "err", err)
		}
	})
	s.log.Info("metrics served without sign-in on their own address: keep it on a private network", "metrics", "http://"+dialAddr(ln.Addr())+"/metrics")
	return nil
}

// MetricsURL is where /metrics is served: its own listener, or the
// console's (with a token).
func (s *Server) MetricsURL() string {
	if s.web.metricsLn != nil {
		return "http://" + dialAddr(s.web.metricsLn.Addr()) + "/metrics"
	}
	return s.ConsoleURL() + "metrics"
}

// closeMetrics stops the metrics listener.
func (s *Server) closeMetrics() error {
	if s.web.metricsSrv == nil {
		if s.web.metricsLn != nil {
			s.web.metricsLn.Close()
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.web.metricsSrv.Shutdown(ctx)
}
