package records

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/gatepost/gatepost/protocol"
)

// On PostgreSQL several hub replicas store batches at once, and a broker
// may hand consecutive batches of one kiosk to different replicas. A
// transaction that stores batches therefore first locks, until it
// commits, each of their kiosks, before it reads anything it decides on:
// the held hashes and bodies (duplicates, conflicts), the journal, and
// the contiguous sequence. A second transaction for the same kiosk waits,
// then reads what the first committed (READ COMMITTED reads committed
// rows at each statement), so every entry is stored once and Contiguous
// is computed from committed rows, never lower than what the other
// acked. SQLite needs none of this: its write lock, taken at BEGIN,
// serializes changes.
//
// The locks are advisory locks named by a hash of the kiosk, not row
// locks: a kiosk's first batch has no row to lock yet, and locking by
// name makes no row for a batch that is then refused. Every transaction
// takes its locks in one order (ascending number), all in one statement
// before its first change, so that two group commits never wait on each
// other in a cycle.
//
// The compound's day counts (site_day) need no lock of their own: they
// are added, never read, by a store, in one upsert per compound day that
// PostgreSQL makes atomic, written after the entries, once every kiosk
// lock is held, and in one order (compound, day; siteDayCounts.write).
// So a transaction holds a count's row only from its upsert to its
// commit, and no transaction holding one waits for a kiosk's lock: it
// never waits for another to store its batches, only for a count
// another has already written. Every gate of a compound thus stores at
// once on any replica.

// lockBatches takes the locks for batches in q's transaction.
func lockBatches(ctx context.Context, q querier, d *dialect, batches ...protocol.Batch) error {
	if d.lock == "" {
		return nil
	}
	keys := make([]int64, 0, len(batches))
	for _, b := range batches {
		keys = append(keys, lockKey("kiosk", b.Kiosk))
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
