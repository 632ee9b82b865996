package daemon

import (
	"context"
	"log/slog"
	"testing"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/kiosk/config"
)

// openDaemon opens a daemon on cfg and clk (nil: the real clock), closed
// when the test ends.
func openDaemon(t *testing.T, cfg config.Config, clk clock.Clock) *Daemon {
	t.Helper()
	d, err := Open(cfg, slog.New(slog.DiscardHandler), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return d
}

// runDaemon runs d until the test ends, then stops it (before the
// cleanup of openDaemon closes it) and holds Run to returning nil.
func runDaemon(t *testing.T, d *Daemon) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v", err)
		}
	})
}

// startDaemon opens and runs a daemon on cfg and the real clock until the
// test ends.
func startDaemon(t *testing.T, cfg config.Config) *Daemon {
	t.Helper()
	d := openDaemon(t, cfg, nil)
	runDaemon(t, d)
	return d
}
