package records

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// On PostgreSQL several hub replicas store batches at once, and a broker
// may hand consecutive batches of one kiosk to different replicas. A
// transaction that stores batches therefore first locks, until it
// commits, each of their kiosks and each compound day they may count in
// (site_day), before it reads anything it decides on: the held hashes and
// bodies (duplicates, conflicts), the journal, and the contiguous
// sequence. A second transaction for the same kiosk waits, then reads
// what the first committed (READ COMMITTED reads committed rows at each
// statement), so every entry is stored once and Contiguous is computed
// from committed rows, never lower than what the other acked. SQLite
// needs none of this: its write lock, taken at BEGIN, serializes changes.
//
// The locks are advisory locks named by a hash of the kiosk (or the
// compound and day), not row locks: a kiosk's first batch has no row to
// lock yet, and locking by name makes no row for a batch that is then
// refused. Every transaction takes its locks in one order (ascending
// number), all before its first change, so that two group commits
// holding different kiosks of the same compounds never wait on each
// other in a cycle.

// lockBatches takes the locks for batches in q's transaction.
func lockBatches(ctx context.Context, q querier, d *dialect, batches ...protocol.Batch) error {
	if d.lock == "" {
		return nil
	}
	keys := make([]int64, 0, 1+len(batches))
	for _, b := range batches {
		keys = append(keys, lockKey("kiosk", b.Kiosk))
		for _, e := range b.Entries {
			day := e.Time.Format(time.RFC3339Nano)[:10] // as siteDayCounts.add keys it
			keys = append(keys, lockKey("site_day", b.Site, day))
		}
	}
	return lockKeys(ctx, q, d, keys)
}

// lockKeys takes the locks keys name, in ascending order, in one
// statement.
func lockKeys(ctx context.Context, q querier, d *dialect, keys []int64) error {
	if d.lock == "" {
		return nil
	}
	slices.Sort(keys)
	if _, err := q.ExecContext(ctx, d.lock, slices.Compact(keys)); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	return nil
}

// Issuing a downlink reads the highest version of its kind the compound
// has had and writes the next: IssueDownlink takes a lock on the compound
// and kind first, so that two replicas issuing at once number theirs
// apart (lockKey("downlinks", site, kind)). It takes no other lock, so it
// cannot wait in a cycle with a batch's.

// lockKey names a lock: a 64-bit hash of its kind and parts.
func lockKey(kind string, parts ...string) int64 {
	h := fnv.New64a()
	h.Write([]byte("gatepost records " + kind))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return int64(h.Sum64())
}
