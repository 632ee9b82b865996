package journal

import (
	"context"
	"testing"
)

// Every connection to a journal caps its page cache at cacheKiB: with
// SQLite's default, a kiosk's memory grew by 3 MB as its journal passed
// 2 MB (bench/soak).
func TestPageCacheCapped(t *testing.T) {
	j, path := openTemp(t)
	appendN(t, j, 3)
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	for name, jj := range map[string]*Journal{"writer": j, "read-only": ro} {
		var kib int
		if err := jj.db.QueryRowContext(context.Background(), "PRAGMA cache_size").Scan(&kib); err != nil {
			t.Fatal(err)
		}
		if kib != -cacheKiB {
			t.Errorf("%s: PRAGMA cache_size = %d, want %d (KiB)", name, kib, -cacheKiB)
		}
	}
}
