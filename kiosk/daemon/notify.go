package daemon

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Readiness and liveness for systemd (Type=notify, WatchdogSec; see
// docs/operations.md). READY=1 is sent only once the kiosk can journal
// and its screen answers; WATCHDOG=1 only while the scan loop and the
// journal's writer are alive, so that a wedged kiosk stops pinging and
// systemd restarts it.

// readyEvery is how often notifyReady tries again while the kiosk is not
// ready yet. It paces real I/O (a write lock, an HTTP request), so it is
// wall-clock time, not the kiosk's clock.
const readyEvery = 100 * time.Millisecond

// notify tells systemd the kiosk is ready, then keeps its watchdog fed
// while the kiosk is alive, until ctx ends. With no service manager
// (Notify nil or not enabled) it does nothing.
func (d *Daemon) notify(ctx context.Context) {
	n := d.Notify
	if n == nil || !n.Enabled() {
		return
	}
	if err := d.waitReady(ctx); err != nil {
		return // ctx ended first
	}
	if err := n.Ready(); err != nil {
		d.log.Warn("cannot tell systemd the kiosk is ready", "err", err)
	}
	limit := n.WatchdogInterval()
	if err := n.Watchdog(ctx, func() error { return d.alive(limit) }); err != nil {
		d.log.Warn("systemd watchdog", "err", err)
	}
}

// waitReady returns once Ready holds, or with ctx's error.
func (d *Daemon) waitReady(ctx context.Context) error {
	t := time.NewTicker(readyEvery)
	defer t.Stop()
	var last error
	for {
		err := d.Ready(ctx)
		if err == nil {
			return nil
		}
		if last == nil || err.Error() != last.Error() {
			d.log.Info("kiosk not ready yet", "why", err)
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Ready returns nil when the kiosk can journal (it can take the
// journal's write lock) and its screen answers (GET /healthz).
func (d *Daemon) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := d.journal.CheckWrite(ctx); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.ScreenURL()+"healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("screen: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("screen: /healthz answered %s", resp.Status)
	}
	return nil
}

// alive returns nil while the scan loop runs and is not stuck on one
// scan, no journal write has run longer than limit, and the journal's
// write lock can be taken within a quarter of limit.
func (d *Daemon) alive(limit time.Duration) error {
	// The journal first: a wedged writer also holds the scan loop, and
	// the writer is the cause to report.
	if err := d.journal.Stuck(limit); err != nil {
		return err
	}
	if err := d.gate.Alive(limit); err != nil {
		// A scan held past the limit while its entry's write is still
		// running is held by the writer (the scan began a little before
		// its write did): name the writer, the cause.
		if jerr := d.journal.Stuck(0); jerr != nil {
			return jerr
		}
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit/4)
	defer cancel()
	return d.journal.CheckWrite(ctx)
}
