package ingest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
)

// GroupStore is a Store that also saves several batches in one
// transaction (hub/records.SQLite): Run then commits the batches waiting
// together once, instead of once each. A Store without it saves each
// batch apart.
type GroupStore interface {
	SaveBatches(ctx context.Context, batches []protocol.Batch, received time.Time) ([]records.Group, error)
}

// DeferringStore is a GroupStore that may leave a batch whose kiosk
// another replica is storing, for a later group, rather than wait for it
// (hub/records.SQLite on PostgreSQL): Run then puts such a batch first in
// its next group. A batch left maxDeferrals times is waited for.
type DeferringStore interface {
	SaveBatchesOrDefer(ctx context.Context, batches []protocol.Batch, received time.Time, wait []bool) ([]records.Group, error)
}

// maxDeferrals is how many groups may leave one batch before one waits
// for its kiosk: the replicas holding it each hold it for one group, so a
// batch is seldom left twice, and a kiosk that some replica is always
// storing is still stored here within a few groups.
const maxDeferrals = 4

const (
	// DefaultGroupBatches bounds how many batches share a commit.
	DefaultGroupBatches = 64
	// DefaultGroupEntries bounds, roughly, how many entries share a
	// commit (a group closes once it holds this many), so that an alert
	// arriving while a group commits waits for a bounded time.
	DefaultGroupEntries = 2048
)

// SaveGroup stores what Decode accepted of ds and publishes each kiosk's
// ack, returning an error per message as Save does. The batches among ds
// share one transaction when the Store is a GroupStore; a batch the store
// refuses (chain, conflict of journals, window) is refused alone. No ack
// is published before the transaction holding its batch has committed, and
// acks go out in the order of ds, so a kiosk's acks never go backwards.
// Status messages are stored after the batches, each on its own. If
// storage fails, no batch of the group is stored or acknowledged: each
// kiosk sends its batch again.
func (in *Ingest) SaveGroup(ctx context.Context, ds []Decoded) []error {
	errs, _ := in.saveGroup(ctx, ds, false)
	return errs
}

// saveGroup is SaveGroup. With mayDefer, a DeferringStore may leave the
// batches of kiosks another replica is storing, each up to maxDeferrals
// times: they are returned in later, neither acked nor counted, their
// errs nil.
func (in *Ingest) saveGroup(ctx context.Context, ds []Decoded, mayDefer bool) (errs []error, later []Decoded) {
	in.init()
	errs = make([]error, len(ds))
	var at []int
	var batches []protocol.Batch
	var wait []bool
	for i, d := range ds {
		switch {
		case d.err != nil:
			errs[i] = d.err
		case d.leaf != "status":
			at = append(at, i)
			batches = append(batches, d.batch)
			wait = append(wait, !mayDefer || d.deferrals >= maxDeferrals)
		}
	}
	now := in.now()
	results, err := in.store(ctx, batches, wait, now)
	acks := make([][]byte, len(ds))
	for j, i := range at {
		if err != nil {
			_, errs[i] = in.settle(ds[i], records.Saved{}, err, now)
			continue
		}
		if results[j].Busy {
			d := ds[i]
			d.deferrals++
			later = append(later, d)
			in.stats.deferred.Add(1)
			continue
		}
		acks[i], errs[i] = in.settle(ds[i], results[j].Saved, results[j].Err, now)
	}
	in.publishAcks(ctx, ds, acks, errs)
	for i, d := range ds {
		if d.err == nil && d.leaf == "status" {
			errs[i] = in.handleStatus(ctx, in.logger().With("topic", d.topic), d.site, d.kiosk, d.payload)
		}
	}
	return errs, later
}

// store saves batches, in one transaction when it can, leaving those
// wait does not mark when a DeferringStore finds their kiosk busy. err is
// a failure of the whole group.
func (in *Ingest) store(ctx context.Context, batches []protocol.Batch, wait []bool, now time.Time) ([]records.Group, error) {
	if len(batches) == 0 {
		return nil, nil
	}
	if len(batches) > 1 {
		var save func() ([]records.Group, error)
		if g, ok := in.Store.(DeferringStore); ok && slices.Contains(wait, false) {
			save = func() ([]records.Group, error) { return g.SaveBatchesOrDefer(ctx, batches, now, wait) }
		} else if g, ok := in.Store.(GroupStore); ok {
			save = func() ([]records.Group, error) { return g.SaveBatches(ctx, batches, now) }
		}
		if save != nil {
			results, err := save()
			if err == nil && len(results) != len(batches) {
				err = fmt.Errorf("store answered for %d batches of %d", len(results), len(batches))
			}
			return results, err
		}
	}
	results := make([]records.Group, len(batches))
	for i, b := range batches {
		results[i].Saved, results[i].Err = in.Store.SaveBatch(ctx, b, now)
	}
	return results, nil
}

// groupLimits are the bounds of one group commit.
func (in *Ingest) groupLimits() (batches, entries int) {
	batches, entries = in.GroupBatches, in.GroupEntries
	if batches <= 0 {
		batches = DefaultGroupBatches
	}
	if entries <= 0 {
		entries = DefaultGroupEntries
	}
	return batches, entries
}

// collect takes the next group. Alerts waiting go alone, ahead of
// everything: a group holding an alert takes no batch after it, so that
// the alert waits only for the group being committed and its own small
// one, not for a drain's group of thousands of entries. Otherwise the
// group starts with the batches carried from the last (left for their
// kiosk was busy), or else with the first message to arrive (blocking
// until one does, or both queues close), then takes whatever else is
// already waiting until the group is full. With linger above 0 it waits
// up to that long after the first message for more: at rush hour batches
// arrive apart, and a few milliseconds let several share one commit.
// tookCarried says whether the group holds carried; it is nil once both
// queues are closed and empty and nothing is carried.
func collect(alerts, rest <-chan Decoded, maxBatches, maxEntries int, linger time.Duration,
	carried []Decoded) (group []Decoded, tookCarried bool) {
	entries, alert := 0, false
	var lingered <-chan time.Time // nil: never
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	take := func(d Decoded, ok bool, from *<-chan Decoded) {
		if !ok {
			*from = nil
			return
		}
		group = append(group, d)
		entries += len(d.batch.Entries)
		alert = alert || d.leaf == "alerts"
		if len(group) == 1 && linger > 0 {
			// Real time, not the injected clock: this is about the
			// machine's fsync, and tests that stand a fake clock still
			// must not wait on it.
			timer = time.NewTimer(linger)
			lingered = timer.C
		}
	}
	// waitingAlerts takes the alerts waiting, up to the group's bound.
	waitingAlerts := func() {
		for alerts != nil && len(group) < maxBatches {
			select {
			case d, ok := <-alerts:
				take(d, ok, &alerts)
			default:
				return
			}
		}
	}
	if waitingAlerts(); alert {
		return group, false
	}
	group = append(group, carried...)
	for _, d := range carried {
		entries += len(d.batch.Entries)
	}
	for alerts != nil || rest != nil {
		if alert {
			waitingAlerts()
			return group, true
		}
		if len(group) > 0 && (len(group) >= maxBatches || entries >= maxEntries) {
			return group, true
		}
		switch {
		case len(group) == 0:
			select {
			case d, ok := <-alerts:
				take(d, ok, &alerts)
			case d, ok := <-rest:
				take(d, ok, &rest)
			}
		case lingered == nil:
			select {
			case d, ok := <-alerts:
				take(d, ok, &alerts)
			case d, ok := <-rest:
				take(d, ok, &rest)
			default:
				return group, true // nothing more waiting: commit what we have
			}
		default:
			select {
			case d, ok := <-alerts:
				take(d, ok, &alerts)
			case d, ok := <-rest:
				take(d, ok, &rest)
			case <-lingered:
				return group, true
			}
		}
	}
	return group, true
}

// publishAcks publishes the acks of a committed group, in its order: all
// at once and then waited for when Send is set, else one by one.
func (in *Ingest) publishAcks(ctx context.Context, ds []Decoded, acks [][]byte, errs []error) {
	waits := make([]func(context.Context) error, len(ds))
	for i, ack := range acks {
		if ack == nil {
			continue
		}
		topic := protocol.AckTopic(ds[i].site, ds[i].kiosk)
		if in.Send == nil {
			errs[i] = in.ackPublished(ds[i], in.Publish(ctx, topic, ack))
			continue
		}
		waits[i] = in.Send(topic, ack)
	}
	for i, wait := range waits {
		if wait != nil {
			errs[i] = in.ackPublished(ds[i], wait(ctx))
		}
	}
}

// ackPublished counts and logs an ack that could not be published.
func (in *Ingest) ackPublished(d Decoded, err error) error {
	if err == nil {
		return nil
	}
	in.stats.ackFailures.Add(1)
	in.logger().Warn("ack not published; the kiosk will send again and be acked then", "topic", d.topic, "kiosk", d.kiosk, "err", err)
	return fmt.Errorf("ingest %s: publish ack: %w", d.topic, err)
}
