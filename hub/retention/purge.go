package retention

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/clock"
)

// DefaultEvery is how often Run purges.
const DefaultEvery = time.Hour

// Settings is where the retention days are kept and purges are audited:
// console.db.
type Settings interface {
	Retention(ctx context.Context) (map[string]int, error)
	Audit(ctx context.Context, user, action, detail string) error
}

var (
	_ Settings         = (*operators.Store)(nil)
	_ operators.Purger = (*records.SQLite)(nil)
)

// Purger purges hub.db by the retention settings. Records and Settings
// are required; a nil Clock is the wall clock, a nil Log discards, and
// Every 0 means DefaultEvery.
type Purger struct {
	Records  operators.Purger
	Settings Settings
	Clock    clock.Clock
	Log      *slog.Logger
	Every    time.Duration
}

// Run purges at once, then every Every, until ctx ends.
func (p *Purger) Run(ctx context.Context) {
	every := p.Every
	if every <= 0 {
		every = DefaultEvery
	}
	t := clock.Or(p.Clock).NewTicker(every)
	defer t.Stop()
	for {
		if err := p.Purge(ctx); err != nil && ctx.Err() == nil {
			p.log().Error("retention: purge", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

// Purge removes personal details past each kind's retention now, and
// audits each kind it removed some from as "(hub)".
func (p *Purger) Purge(ctx context.Context) error {
	days, err := p.Settings.Retention(ctx)
	if err != nil {
		return err
	}
	purged, err := operators.PurgeByRetention(ctx, p.Records, days, clock.Or(p.Clock).Now(), false)
	for _, r := range purged {
		if r.Entries > 0 {
			p.Settings.Audit(ctx, "(hub)", "purge", fmt.Sprintf("%s: %d", r.Kind, r.Entries))
		}
	}
	return err
}

func (p *Purger) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}
