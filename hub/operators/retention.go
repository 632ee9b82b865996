package operators

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/protocol"
)

// DefaultRetention is how many days personal details of each entry kind
// are kept: four weeks, twice the 14-day observation period. Only these
// kinds carry personal details (a visitor's name and phone, a check's
// scanned text).
var DefaultRetention = map[string]int{string(protocol.KindVisitor): 28, string(protocol.KindCheck): 28}

// MaxRetention bounds a setting (ten years).
const MaxRetention = 3650

// RetentionKinds lists the kinds that have a retention, in name order.
func RetentionKinds() []string {
	kinds := make([]string, 0, len(DefaultRetention))
	for k := range DefaultRetention {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return kinds
}

// Retention returns the days kept per kind, defaults filled in.
func (s *Store) Retention(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for kind, def := range DefaultRetention {
		v, err := s.Setting(ctx, "retention."+kind, strconv.Itoa(def))
		if err != nil {
			return nil, err
		}
		days, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("retention of %s: stored value %q is not a number", kind, v)
		}
		out[kind] = days
	}
	return out, nil
}

// CheckRetention reports whether days is a retention that kind may have.
func CheckRetention(kind string, days int) error {
	if _, ok := DefaultRetention[kind]; !ok {
		return fmt.Errorf("retention: kind must be visitor or check, got %q", kind)
	}
	if days < 1 || days > MaxRetention {
		return fmt.Errorf("retention of %s: days must be 1 to %d, got %d", kind, MaxRetention, days)
	}
	return nil
}

// SetRetention sets the days kept for kind.
func (s *Store) SetRetention(ctx context.Context, kind string, days int) error {
	return s.SetRetentions(ctx, map[string]int{kind: days})
}

// SetRetentions sets the days kept for each kind given: all of them or,
// if any is refused, none.
func (s *Store) SetRetentions(ctx context.Context, days map[string]int) error {
	for kind, d := range days {
		if err := CheckRetention(kind, d); err != nil {
			return err
		}
	}
	err := s.db.Tx(ctx, func(tx sqlstore.Tx) error {
		for kind, d := range days {
			if _, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value`, "retention."+kind, strconv.Itoa(d)); err != nil {
				return fmt.Errorf("of %s: %w", kind, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write retention: %w", err)
	}
	return nil
}

// Purger removes personal details of kind from entries received before
// cutoff, or with dryRun only counts them: hub/records.SQLite.
type Purger interface {
	Purge(ctx context.Context, kind string, cutoff time.Time, dryRun bool) (int, error)
}

// Purged is what a purge removed from one kind, or would remove.
type Purged struct {
	Kind    string
	Days    int // the retention applied
	Entries int // entries whose personal details went (or would go)
}

// PurgeByRetention removes (dryRun: counts) the personal details past
// each kind's retention in days at now, kinds in name order. `hub purge`,
// the hub's hourly purge and the console's retention page all purge or
// count here, so a dry run shows what the real purge does.
func PurgeByRetention(ctx context.Context, p Purger, days map[string]int, now time.Time, dryRun bool) ([]Purged, error) {
	kinds := make([]string, 0, len(days))
	for k := range days {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	out := make([]Purged, 0, len(kinds))
	for _, kind := range kinds {
		n, err := p.Purge(ctx, kind, now.AddDate(0, 0, -days[kind]), dryRun)
		if err != nil {
			return out, err
		}
		out = append(out, Purged{Kind: kind, Days: days[kind], Entries: n})
	}
	return out, nil
}
