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
	_, err := lockGroup(ctx, q, d, batches, nil)
	return err
}

// A group commit holds its kiosks' locks from the start of its
// transaction to its commit, so a group that waits for one kiosk holds
// back every other kiosk of it meanwhile, and the groups on other
// replicas that wait for those, and so on: with three replicas on
// Mosquitto, which hands a kiosk's consecutive batches to each in turn,
// an alert waited behind such chains for over two seconds. So a group
// may take only the kiosks it can get at once, and leave the batches of
// the others to a later group (lockGroup, SaveBatchesOrDefer). A group
// that waits, for the batches that must not be left again, takes those
// locks first, in one statement and one order as above, and only then
// tries the others: a transaction waits only before it holds anything it
// merely tried for, so no transaction waits, even indirectly, for one
// that is itself waiting beyond that first statement, and none waits in
// a cycle.

// lockGroup takes the locks for a group's batches in q's transaction:
// waiting for the kiosks of the batches wait marks (every batch when wait
// is nil), trying for the others. It returns the kiosks it left to other
// transactions, whose batches the caller leaves for a later group. A
// group that could take no lock at all waits for them all: every group
// stores something.
func lockGroup(ctx context.Context, q querier, d *dialect, batches []protocol.Batch, wait []bool) (busy map[string]bool, err error) {
	if d.lock == "" {
		return nil, nil
	}
	var must, may []int64
	kiosks := map[int64]string{}
	for i, b := range batches {
		k := lockKey("kiosk", b.Kiosk)
		kiosks[k] = b.Kiosk
		if wait == nil || wait[i] {
			must = append(must, k)
		} else {
			may = append(may, k)
		}
	}
	if len(must) > 0 {
		if err := lockKeys(ctx, q, d, must); err != nil {
			return nil, err
		}
	}
	if len(may) == 0 {
		return nil, nil
	}
	slices.Sort(may)
	may = slices.Compact(may)
	rows, err := q.QueryContext(ctx, d.tryLock, may)
	if err != nil {
		return nil, fmt.Errorf("try lock: %w", err)
	}
	defer rows.Close()
	got := map[int64]bool{}
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("try lock: %w", err)
		}
		got[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("try lock: %w", err)
	}
	if len(got) == 0 && len(must) == 0 {
		return nil, lockKeys(ctx, q, d, may)
	}
	held := map[int64]bool{}
	for _, k := range must {
		held[k] = true
	}
	for _, k := range may {
		if !got[k] && !held[k] {
			if busy == nil {
				busy = map[string]bool{}
			}
			busy[kiosks[k]] = true
		}
	}
	return busy, nil
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
