package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/gatepost/gatepost/hub/alerts"
	"github.com/gatepost/gatepost/hub/console"
	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/retention"
	"github.com/gatepost/gatepost/internal/clock"
)

// The console's live view is the alert follower's watcher.
var _ alerts.Watcher = (*console.Console)(nil)

// jobs is the hub's background work on console.db that runs whether or
// not anyone opens the console: the alert follower and the hourly
// retention purge. The server opens console.db; the console only reads
// and changes it on people's behalf.
type jobs struct {
	operators *operators.Store
	clock     clock.Clock
	log       *slog.Logger
	rec       *records.SQLite
	refusals  *alerts.Refusals // ingest's security refusals, raised as alerts
}

// start runs the follower and the purge on wg until ctx ends. live is
// the console, whose live view the follower feeds; nil without one.
func (j *jobs) start(ctx context.Context, wg *sync.WaitGroup, live *console.Console) error {
	cfg := alerts.Config{Records: j.rec, Store: j.operators, Clock: j.clock, Log: j.log.With("component", "alerts"),
		Refusals: j.refusals}
	if live != nil {
		cfg.Watcher = live
	}
	follower, err := alerts.New(cfg)
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	purger := &retention.Purger{Records: j.rec, Settings: j.operators, Clock: j.clock,
		Log: j.log.With("component", "retention")}
	wg.Go(func() { follower.Run(ctx) })
	wg.Go(func() { purger.Run(ctx) })
	return nil
}
