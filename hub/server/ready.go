package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Readiness and liveness for systemd (Type=notify, WatchdogSec; see
// docs/operations.md): READY=1 once storage answers, the broker link is
// up and the console answers; WATCHDOG=1 while ingest runs and storage
// answers. A broker that is down does not stop the pings: the link
// reconnects on its own, and restarting the hub would not bring an
// external broker back.

// readyEvery is how often Run tries again while the hub is not ready. It
// paces real I/O, so it is wall-clock time.
const readyEvery = 100 * time.Millisecond

// Ready returns nil when storage answers, the hub's MQTT client is
// connected and the console answers GET /healthz.
func (s *Server) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.storageAnswers(ctx); err != nil {
		return err
	}
	if !s.BrokerConnected() {
		return fmt.Errorf("the hub's MQTT client is not connected to %s", s.brokerURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.ConsoleURL()+"healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("console: /healthz answered %s", resp.Status)
	}
	return nil
}

// readyz answers the console's GET /readyz: what keeps the hub from
// taking work ("storage", "broker"), "" when nothing does, and a line per
// once-only job saying whether this replica runs it.
func (s *Server) readyz(ctx context.Context) (problem string, detail []string) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	switch {
	case s.storageAnswers(ctx) != nil:
		problem = "storage"
	case !s.BrokerConnected():
		problem = "broker"
	}
	for _, st := range s.Leading() {
		line := "job " + st.Job + ": another replica runs it"
		if st.Leading {
			line = "job " + st.Job + ": runs here since " + st.Since.UTC().Format(time.RFC3339)
		}
		detail = append(detail, line)
	}
	return problem, detail
}

// Alive returns nil while the ingest loop runs and storage answers
// within timeout.
func (s *Server) Alive(timeout time.Duration) error {
	if s.ingestStopped.Load() {
		return errors.New("the ingest loop has stopped")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return s.storageAnswers(ctx)
}

func (s *Server) storageAnswers(ctx context.Context) error {
	if _, err := s.store.Contiguous(ctx, ""); err != nil {
		return fmt.Errorf("storage (hub.db) does not answer: %w", err)
	}
	return nil
}

// notifySystemd sends READY=1 once Ready holds, feeds the watchdog while
// Alive holds, and sends STOPPING=1 when ctx ends. Without a service
// manager it returns when ctx ends.
func (s *Server) notifySystemd(ctx context.Context) {
	n := s.notify
	if n == nil || !n.Enabled() {
		<-ctx.Done()
		return
	}
	defer n.Stopping()
	t := time.NewTicker(readyEvery)
	defer t.Stop()
	for {
		err := s.Ready(ctx)
		if err == nil {
			break
		}
		s.log.Debug("hub not ready yet", "why", err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	if err := n.Ready(); err != nil {
		s.log.Warn("cannot tell systemd the hub is ready", "err", err)
	}
	limit := n.WatchdogInterval() / 4
	if err := n.Watchdog(ctx, func() error { return s.Alive(limit) }); err != nil {
		s.log.Warn("systemd watchdog", "err", err)
	}
	<-ctx.Done()
}
