package alerts

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/clock"
)

// AlertLog is where a Feed reads the alerts another replica raised.
type AlertLog interface {
	AlertsAfter(ctx context.Context, after int64, limit int) ([]operators.Alert, error)
	LastAlertID(ctx context.Context) (int64, error)
}

// Feed is a replica's live view when hub replicas share one database: the
// follower that raises alerts runs on one replica only, and the entries
// are stored by whichever replica the broker handed them to. A Feed on
// every replica polls the committed rows instead, and tells its console
// of each entry and each new alert, from the moment someone watches. It
// raises nothing. With one hub the follower tells the console itself and
// no Feed runs.
type Feed struct {
	Records   Records
	Alerts    AlertLog
	Watcher   Watcher
	Clock     clock.Clock   // nil for the wall clock
	Log       *slog.Logger  // nil discards
	PollEvery time.Duration // 0: DefaultPollEvery
	Settle    time.Duration // as Config.Settle

	win       window
	lastAlert int64
	following bool // someone watched at the last poll
}

// Run polls every PollEvery until ctx ends.
func (fd *Feed) Run(ctx context.Context) {
	c := clock.Or(fd.Clock)
	every := fd.PollEvery
	if every <= 0 {
		every = DefaultPollEvery
	}
	log := fd.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := c.NewTicker(every)
	defer t.Stop()
	for {
		if err := fd.Poll(ctx); err != nil && ctx.Err() == nil {
			log.Error("live view: follow committed entries and alerts", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

// Poll hands the watcher what was committed since the last poll. While
// nobody watches it reads nothing and starts again from now.
func (fd *Feed) Poll(ctx context.Context) error {
	if !fd.Watcher.Watching() {
		fd.following = false
		return nil
	}
	if !fd.following {
		last, err := fd.Alerts.LastAlertID(ctx)
		if err != nil {
			return err
		}
		now := clock.Or(fd.Clock).Now()
		fd.win = window{settle: fd.Settle, cur: records.Cursor{Received: now.UnixNano()}, seen: map[seenKey]int64{}}
		fd.lastAlert, fd.following = last, true
	}
	if _, err := fd.win.read(ctx, fd.Records, true, func(e records.Stored) error {
		fd.Watcher.EntryReceived(e)
		return nil
	}, func(records.Cursor) error { return nil }); err != nil {
		return fmt.Errorf("entries: %w", err)
	}
	for {
		list, err := fd.Alerts.AlertsAfter(ctx, fd.lastAlert, 100)
		if err != nil {
			return fmt.Errorf("alerts: %w", err)
		}
		for _, a := range list {
			fd.Watcher.AlertRaised(a)
			fd.lastAlert = a.ID
		}
		if len(list) < 100 {
			return nil
		}
	}
}
