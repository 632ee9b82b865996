package ingest

import "context"

// Source is where Run reads messages from: the hub's MQTT link
// (hub/link.Link). Next blocks until a message arrives or ctx ends (ok
// false then); it hands out alerts ahead of batches waiting.
type Source interface {
	Next(ctx context.Context) (topic string, payload []byte, ok bool)
}

// Gated is a Source that asks a gate about each message before queueing
// it (hub/link.Link): Run hands it Allow, so a flood is dropped before it
// can fill the queue that other kiosks' messages wait in.
type Gated interface {
	Gate(allow func(topic string) bool)
}

// Split is a Source that also hands out alerts and the rest apart
// (hub/link.Link): Run then reads and decodes alerts on a goroutine of
// their own, which never waits for room behind batches.
type Split interface {
	NextAlert(ctx context.Context) (topic string, payload []byte, ok bool)
	NextBatch(ctx context.Context) (topic string, payload []byte, ok bool)
}

// alertsAhead is how many decoded alerts may wait for the store, apart
// from the batches.
const alertsAhead = 16

// Run handles every message of src until ctx ends, in two stages: one
// goroutine decodes (JSON, gzip, checks), the other (the caller's) stores
// and acks, so batches are parsed while earlier ones are being written.
// The store stage commits in groups (SaveGroup): whatever is decoded and
// waiting when it is free, up to GroupBatches batches or about
// GroupEntries entries, shares one transaction, and each kiosk is acked
// after the commit. Both stages are single, so a kiosk's acks go out in
// the order its batches arrived.
//
// When the store is behind, the decode stage waits for room (one group
// waiting beside the one committing) and stops taking messages from src,
// which then holds them (hub/link stops reading from the broker, and MQTT
// flow control holds the rest): nothing is dropped. Alerts are taken first
// at both stages: from a Split source (hub/link) they are read and decoded
// on a goroutine of their own, which never waits behind batches (from any
// other, Next hands them out first), and the store stage commits those
// decoded in a group of their own, ahead of the batches waiting, so an
// alert waits for at most the group being committed and its own. With
// several replicas (a DeferringStore), a group takes only the kiosks no
// other replica is storing and leaves the others' batches to the next
// group (a few times at most, then it waits for the kiosk), so that no
// group, and no alert, waits behind a chain of groups waiting for each
// other (hub/records/lock.go). Each message passes the rate limit
// (Allow) once: at a Gated source's gate, or else here before it is
// decoded. Run returns once both stages have stopped.
func (in *Ingest) Run(ctx context.Context, src Source) {
	gated := false
	if g, ok := src.(Gated); ok {
		g.Gate(in.Allow)
		gated = true
	}
	maxBatches, maxEntries := in.groupLimits()
	alerts, rest := make(chan Decoded, alertsAhead), make(chan Decoded, maxBatches)
	if sp, ok := src.(Split); ok {
		go in.decode(ctx, sp.NextAlert, gated, alerts, alerts)
		go in.decode(ctx, sp.NextBatch, gated, rest, rest)
	} else {
		go in.decode(ctx, src.Next, gated, alerts, rest)
	}
	var later []Decoded
	for {
		group, tookLater := collect(alerts, rest, maxBatches, maxEntries, in.GroupWait, later)
		if group == nil {
			return
		}
		if tookLater {
			later = nil
		}
		// saveGroup logs what it refuses or fails to do; a kiosk re-sends
		// whatever is not acknowledged. What it leaves because another
		// replica was storing the kiosk goes first in the next group.
		_, left := in.saveGroup(ctx, group, true)
		later = append(later, left...)
	}
}

// decode reads messages with next until ctx ends, decodes them and puts
// alerts on alerts and the rest on rest, waiting for room; it closes both
// when done (they may be the same channel).
func (in *Ingest) decode(ctx context.Context, next func(context.Context) (string, []byte, bool), gated bool, alerts, rest chan<- Decoded) {
	defer close(rest)
	if alerts != rest {
		defer close(alerts)
	}
	for {
		topic, payload, ok := next(ctx)
		if !ok {
			return
		}
		if !gated && !in.Allow(topic) {
			continue
		}
		d := in.Decode(ctx, topic, payload)
		to := rest
		if d.leaf == "alerts" {
			to = alerts
		}
		select {
		case to <- d:
		case <-ctx.Done():
			return
		}
	}
}
