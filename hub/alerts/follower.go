package alerts

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
)

// The follower reads entries received since its cursor (kept in
// console.db) rather than being called by ingest: ingest stays unaware of
// alerts, a restart resumes where it stopped, and an entry imported from a
// bundle raises its alert like a live one.

// Records is what the follower reads from hub.db.
type Records interface {
	Kiosks(ctx context.Context) ([]records.Kiosk, error)
	Since(ctx context.Context, c records.Cursor, limit int) ([]records.Stored, records.Cursor, error)
	UrgentSince(ctx context.Context, c records.Cursor, limit int) ([]records.Stored, records.Cursor, error)
	Published(ctx context.Context, kind protocol.DownlinkKind) ([]records.Published, error)
}

// Store is where alerts, the cursor and the follower's memory are kept:
// console.db.
type Store interface {
	Raise(ctx context.Context, a operators.Alert) (bool, error)
	Setting(ctx context.Context, key, def string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
}

var (
	_ Records = (*records.SQLite)(nil)
	_ Store   = (*operators.Store)(nil)
)

// Watcher is told of what the follower reads and raises: the console's
// live view. Watching reports whether anyone follows it now; while nobody
// does, the follower reads only the entries that may raise an alert.
// Its methods are called from the follower's goroutine and must not block.
type Watcher interface {
	Watching() bool
	EntryReceived(e records.Stored)
	AlertRaised(a operators.Alert)
}

// Defaults for Config's durations.
const (
	DefaultPollEvery = time.Second
	// DefaultFleetEvery: the fleet's trouble (offline, gaps, clocks,
	// conflicts, status lists) is looked for at most this often. It is
	// counted in minutes, and reading every kiosk's row each second was a
	// fortieth of the hub's CPU at rush hour.
	DefaultFleetEvery      = 10 * time.Second
	DefaultOfflineAfter    = 10 * time.Minute
	DefaultGapAfter        = 5 * time.Minute
	DefaultListBehindAfter = 30 * time.Minute
	// DefaultListMaxAge is the kiosks' default passes.max_age: their
	// presence does not report their own setting.
	DefaultListMaxAge = 24 * time.Hour
)

// Config is what a Follower needs. Records and Store are required.
type Config struct {
	Records Records
	Store   Store
	Watcher Watcher        // may be nil: no live view
	Clock   clock.Clock    // nil for the wall clock
	Zone    *time.Location // times written in details; nil for China Standard Time
	Log     *slog.Logger   // nil discards
	// PollEvery is how often Run looks for new entries; FleetEvery how
	// often a poll also looks for fleet trouble (the first poll always
	// does).
	PollEvery, FleetEvery time.Duration
	// OfflineAfter raises an alert for a kiosk offline longer; GapAfter
	// likewise for a sync gap.
	OfflineAfter, GapAfter time.Duration
	// Refusals, if set, is where ingest reports its security refusals;
	// each poll raises them (refused.go).
	Refusals *Refusals
	// ListBehindAfter raises an alert for an online kiosk running an
	// older status list than the hub published for it, for longer;
	// ListMaxAge for one whose list was issued longer ago (liststale.go).
	ListBehindAfter, ListMaxAge time.Duration
	// Settle is how far behind its cursor the follower reads again each
	// poll, for entries that hub replicas sharing the database committed
	// out of receipt order (window.go). 0 with one hub.
	Settle time.Duration
}

// Follower raises alerts from entries and the fleet. Poll and Run must not
// be called concurrently.
type Follower struct {
	cfg   Config
	clock clock.Clock
	log   *slog.Logger
	lists listWatch
	// conflictsSeen: per kiosk, the conflict count already alerted on
	// (fleet.go).
	conflictsSeen map[string]uint64
	win           window // where Poll reads entries from
	// fleetAt is when a poll last looked for fleet trouble; zero: never.
	fleetAt time.Time
}

// New returns a follower; zero durations take their defaults.
func New(cfg Config) (*Follower, error) {
	if cfg.Records == nil || cfg.Store == nil {
		return nil, fmt.Errorf("alerts: Records and Store are required")
	}
	if cfg.Zone == nil {
		cfg.Zone = passes.Zone
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&cfg.PollEvery, DefaultPollEvery}, {&cfg.FleetEvery, DefaultFleetEvery}, {&cfg.OfflineAfter, DefaultOfflineAfter}, {&cfg.GapAfter, DefaultGapAfter},
		{&cfg.ListBehindAfter, DefaultListBehindAfter}, {&cfg.ListMaxAge, DefaultListMaxAge}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	return &Follower{cfg: cfg, clock: clock.Or(cfg.Clock), log: cfg.Log}, nil
}

// Run polls every PollEvery until ctx ends.
func (f *Follower) Run(ctx context.Context) {
	t := f.clock.NewTicker(f.cfg.PollEvery)
	defer t.Stop()
	for {
		if _, err := f.Poll(ctx); err != nil && ctx.Err() == nil {
			f.log.Error("alerts: follow entries", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

// cursorSetting is where the follower's position is kept.
const cursorSetting = "follow.cursor"

// firstLookBack is how far back a follower with no cursor starts: old
// alerts from a freshly attached hub would only bury today's.
const firstLookBack = 24 * time.Hour

// Poll reads what arrived since the last poll, raises alerts and tells
// the watcher; it returns how many entries it read. With nobody watching
// it reads only the entries that may raise an alert and passes over the
// rest undecoded: a kiosk back from a week offline drains tens of
// thousands of ordinary entries. Tests call Poll instead of Run.
func (f *Follower) Poll(ctx context.Context) (int, error) {
	cur, err := f.cursor(ctx)
	if err != nil {
		return 0, err
	}
	if cur != f.win.cur { // the first poll, or another replica's follower moved it
		f.win = window{settle: f.cfg.Settle, cur: cur, seen: map[seenKey]int64{}}
	}
	watched := f.cfg.Watcher != nil && f.cfg.Watcher.Watching()
	total, err := f.win.read(ctx, f.cfg.Records, watched, func(e records.Stored) error {
		if err := f.raiseFor(ctx, e); err != nil {
			return err
		}
		if watched {
			f.cfg.Watcher.EntryReceived(e)
		}
		return nil
	}, func(c records.Cursor) error {
		return f.cfg.Store.SetSetting(ctx, cursorSetting, fmt.Sprintf("%d %d %s", c.Received, c.Seq, c.Kiosk))
	})
	if err != nil {
		return total, err
	}
	if err := f.raiseRefusals(ctx); err != nil {
		return total, err
	}
	now := f.clock.Now()
	if !f.fleetAt.IsZero() && now.Sub(f.fleetAt) < f.cfg.FleetEvery {
		return total, nil
	}
	if err := f.fleetAlerts(ctx); err != nil {
		return total, err
	}
	f.fleetAt = now
	return total, nil
}

func (f *Follower) cursor(ctx context.Context) (records.Cursor, error) {
	s, err := f.cfg.Store.Setting(ctx, cursorSetting, "")
	if err != nil || s == "" {
		return records.Cursor{Received: f.clock.Now().Add(-firstLookBack).UnixNano()}, err
	}
	var c records.Cursor
	if _, err := fmt.Sscanf(s, "%d %d %s", &c.Received, &c.Seq, &c.Kiosk); err != nil {
		return records.Cursor{}, fmt.Errorf("follower cursor %q: %w", s, err)
	}
	return c, nil
}

// raise stores a and, if it is new, tells the watcher.
func (f *Follower) raise(ctx context.Context, a operators.Alert) error {
	// A new alert PostgreSQL kept on the primary without a standby's
	// confirmation comes with an error: the poll runs again and finds it
	// held, so the live view is told now or never.
	isNew, err := f.cfg.Store.Raise(ctx, a)
	if isNew && f.cfg.Watcher != nil {
		a.State = operators.StateOpen
		f.cfg.Watcher.AlertRaised(a)
	}
	return err
}
