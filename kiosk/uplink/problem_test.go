package uplink

import (
	"maps"
	"slices"
	"testing"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/words"
)

// Every sentence the uplink shows the guard (uplink_ keys in its code) is
// in both of the screen's catalogues, with the same placeholders in each
// (the numbers a maintainer needs are in the Chinese sentence too).
func TestProblemsAreInTheCatalogues(t *testing.T) {
	keys := testkit.StringsInCode(t, "uplink_")
	if len(keys) < 3 {
		t.Fatalf("found uplink_ keys %v, want the three problems of a replaced journal", keys)
	}
	sorted := slices.Sorted(maps.Keys(keys))
	for _, problem := range append(words.MissingKeys(sorted), words.UnevenPlaceholders(sorted)...) {
		t.Error(problem)
	}
}
