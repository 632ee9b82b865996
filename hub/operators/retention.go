package operators

import (
	"context"
	"fmt"
	"strconv"
)

// DefaultRetention is how many days personal details of each kind are
// kept: four weeks, twice the 14-day observation period.
var DefaultRetention = map[string]int{"visitor": 28, "check": 28}

// MaxRetention bounds a setting (ten years).
const MaxRetention = 3650

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

// SetRetention sets the days kept for kind.
func (s *Store) SetRetention(ctx context.Context, kind string, days int) error {
	if _, ok := DefaultRetention[kind]; !ok {
		return fmt.Errorf("retention: kind must be visitor or check, got %q", kind)
	}
	if days < 1 || days > MaxRetention {
		return fmt.Errorf("retention of %s: days must be 1 to %d, got %d", kind, MaxRetention, days)
	}
	return s.SetSetting(ctx, "retention."+kind, strconv.Itoa(days))
}
