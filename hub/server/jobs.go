package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gatepost/gatepost/hub/alerts"
	"github.com/gatepost/gatepost/hub/console"
	"github.com/gatepost/gatepost/hub/leader"
	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/retention"
	"github.com/gatepost/gatepost/internal/clock"
)

// The console's live view is the alert follower's watcher.
var _ alerts.Watcher = (*console.Console)(nil)

// The once-only jobs' names: each is the name of its lease (hub/leader)
// and the job label of gatepost_hub_leader.
const (
	jobAlerts    = "alerts"    // the alert follower, and its stale-list checks
	jobRetention = "retention" // the hourly purge of personal details
	jobPasses    = "passes"    // the pass feed: key sets and status lists to the kiosks
	jobVerify    = "verify"    // the scheduled walk of the stored chains
)

// jobs is the hub's background work that runs whether or not anyone
// opens the console, and that must run once however many replicas there
// are: the alert follower, the retention purge, the pass feed and the
// scheduled verify. Each runs through lead: at once on a hub that is the
// only one (leader.Alone), on one replica at a time with replicas.
type jobs struct {
	operators *operators.Store
	clock     clock.Clock
	log       *slog.Logger
	rec       *records.SQLite
	refusals  *alerts.Refusals // ingest's security refusals, raised as alerts
	lead      *leader.Runner
	// replicas: other hubs share the database. The follower then reads
	// back over replicaSettle for entries committed out of receipt
	// order, and the console's live view is fed on every replica from
	// committed rows (alerts.Feed), not by the follower, which runs on
	// one of them.
	replicas bool
}

// replicaSettle is how far the alert follower and the live view read
// back with replicas: longer than a group commit's wait and a store's
// transaction, and than the replicas' clocks differ (NTP keeps them
// within milliseconds).
const replicaSettle = 5 * time.Second

// onceJob is a job that runs on one replica at a time.
type onceJob struct {
	name string
	run  func(context.Context)
}

// start runs the follower, the purge and the jobs in more on wg until ctx
// ends, each only while this hub holds its lease. live is the console,
// whose live view the follower feeds; nil without one.
func (j *jobs) start(ctx context.Context, wg *sync.WaitGroup, live *console.Console, more ...onceJob) error {
	cfg := alerts.Config{Records: j.rec, Store: j.operators, Clock: j.clock, Log: j.log.With("component", "alerts")}
	switch {
	case j.replicas:
		cfg.Settle = replicaSettle
		if live != nil {
			feed := &alerts.Feed{Records: j.rec, Alerts: j.operators, Watcher: live, Clock: j.clock,
				Log: j.log.With("component", "live"), Settle: replicaSettle}
			wg.Go(func() { feed.Run(ctx) })
		}
	case live != nil:
		cfg.Watcher = live
	}
	follower, err := alerts.New(cfg)
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	// This hub's ingest reports its refusals here, so they are raised
	// here, whichever replica runs the follower.
	cfg.Refusals = j.refusals
	refused, err := alerts.New(cfg)
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	wg.Go(func() { j.raiseRefusals(ctx, refused) })
	purger := &retention.Purger{Records: j.rec, Settings: j.operators, Clock: j.clock,
		Log: j.log.With("component", "retention")}
	if j.lead == nil {
		j.lead = &leader.Runner{Elector: leader.Alone{}, Clock: j.clock, Log: j.log.With("component", "leader")}
	}
	for _, job := range append([]onceJob{{jobAlerts, follower.Run}, {jobRetention, purger.Run}}, more...) {
		wg.Go(func() { j.lead.Run(ctx, job.name, job.run) })
	}
	return nil
}

// elector is how this hub learns whether it runs the once-only jobs: the
// database's leases with replicas, always on a hub that is the only one.
func (c Config) elector() leader.Elector {
	if c.Database == "" {
		return leader.Alone{}
	}
	return &leader.Postgres{URL: c.Database, Replica: c.ReplicaID, Clock: c.Clock,
		Log: c.Logger.With("component", "leader")}
}

// Leading lists the once-only jobs and whether this replica runs each,
// and since when: for /readyz and the console. On a hub that is the only
// one, it runs them all from the start.
func (s *Server) Leading() []leader.Status { return s.jobs.lead.Status() }

// raiseRefusals raises, every second until ctx ends, the security
// refusals this hub's ingest reported: on every replica, not through a
// lease, since each replica's reports are in its own memory. The alert's
// key (kiosk, reason, ten minutes) makes reports of several replicas one
// alert.
func (j *jobs) raiseRefusals(ctx context.Context, f *alerts.Follower) {
	t := clock.Or(j.clock).NewTicker(alerts.DefaultPollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		_ = f.RaiseRefusals(ctx) // logged by the follower; the next tick tries again
	}
}
