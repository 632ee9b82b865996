package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
)

// Store is the storage ingest needs.
type Store interface {
	SaveBatch(ctx context.Context, b protocol.Batch, received time.Time) (records.Saved, error)
}

// ErrRejected is wrapped by the error Handle returns for a message it
// refuses: a bad topic, a malformed batch, or a batch whose kiosk or site
// differs from its topic. Nothing is stored for such a message.
var ErrRejected = errors.New("message rejected")

// Ingest handles batches. Set Store and Publish; the zero values of the
// other fields are usable. Use one Ingest from one goroutine at a time per
// kiosk, so acks for a kiosk go out in the order its batches were saved.
type Ingest struct {
	Store Store
	// Publish sends payload to topic at QoS 1 with the retain flag set, so a
	// kiosk that reconnects learns its contiguous sequence at once.
	Publish func(ctx context.Context, topic string, payload []byte) error
	Logger  *slog.Logger     // nil discards
	Now     func() time.Time // nil means time.Now

	stats stats
}

// Stats counts what an Ingest has done since it was created.
type Stats struct {
	Batches     uint64 // batches stored (duplicates included) and acknowledged or attempted
	Inserted    uint64 // entries newly stored
	Duplicates  uint64 // entries already held, identical
	Conflicts   uint64 // entries refused because a different entry is held
	Rejected    uint64 // messages refused: bad topic, bad batch, topic/message mismatch
	Mismatched  uint64 // of Rejected: topic and batch disagree on kiosk or site
	StoreErrors uint64 // batches not stored because storage failed
	AckFailures uint64 // acks that could not be published
}

type stats struct {
	batches, inserted, duplicates, conflicts, rejected, mismatched, storeErrors, ackFailures atomic.Uint64
}

// Stats returns the counters.
func (in *Ingest) Stats() Stats {
	s := &in.stats
	return Stats{
		Batches: s.batches.Load(), Inserted: s.inserted.Load(), Duplicates: s.duplicates.Load(),
		Conflicts: s.conflicts.Load(), Rejected: s.rejected.Load(), Mismatched: s.mismatched.Load(),
		StoreErrors: s.storeErrors.Load(), AckFailures: s.ackFailures.Load(),
	}
}

// Handle processes one message from an entries topic. It logs what it
// refuses and why (the protocol's field error text), so callers need not
// log the returned error again; the error is for callers that branch on
// it: errors.Is(err, ErrRejected) for a refused message, anything else for
// a storage or publish failure the kiosk's retry will cover.
func (in *Ingest) Handle(ctx context.Context, topic string, payload []byte) error {
	log := in.logger().With("topic", topic)
	site, kiosk, err := protocol.ParseEntriesTopic(topic)
	if err != nil {
		return in.reject(log, "bad topic", err)
	}
	b, err := protocol.DecodeBatch(payload)
	if err != nil {
		return in.reject(log.With("kiosk", kiosk), "bad batch", err)
	}
	// The topic is what the broker authorised; the batch is what the kiosk
	// claims. Trust neither without the other.
	if b.Kiosk != kiosk || b.Site != site {
		in.stats.mismatched.Add(1)
		log.Warn("security: batch identity differs from its topic, refused",
			"topic_site", site, "topic_kiosk", kiosk, "batch_site", b.Site, "batch_kiosk", b.Kiosk)
		in.stats.rejected.Add(1)
		return fmt.Errorf("%w: batch from %s/%s on the topic of %s/%s", ErrRejected, b.Site, b.Kiosk, site, kiosk)
	}
	log = log.With("kiosk", kiosk)

	now := in.now()
	saved, err := in.Store.SaveBatch(ctx, b, now)
	if errors.Is(err, protocol.ErrInvalid) {
		return in.reject(log, "batch refused by storage", err)
	}
	if err != nil {
		in.stats.storeErrors.Add(1)
		log.Error("batch not stored; the kiosk will send it again", "err", err)
		return fmt.Errorf("ingest %s: %w", topic, err)
	}
	in.stats.batches.Add(1)
	in.stats.inserted.Add(uint64(saved.Inserted))
	in.stats.duplicates.Add(uint64(saved.Duplicates))
	in.stats.conflicts.Add(uint64(saved.Conflicts))
	if saved.Conflicts > 0 {
		log.Warn("security: entries differ from those held, refused",
			"seqs", saved.ConflictSeqs, "conflicts", saved.Conflicts)
	}
	log.Debug("batch stored", "first", b.Entries[0].Seq, "last", b.Entries[len(b.Entries)-1].Seq,
		"inserted", saved.Inserted, "duplicates", saved.Duplicates, "contiguous", saved.Contiguous)

	ack, err := protocol.EncodeAck(protocol.Ack{Kiosk: kiosk, Contiguous: saved.Contiguous, Time: now})
	if err != nil { // cannot happen for a kiosk that passed DecodeBatch
		in.stats.ackFailures.Add(1)
		return fmt.Errorf("ingest %s: encode ack: %w", topic, err)
	}
	if err := in.Publish(ctx, protocol.AckTopic(site, kiosk), ack); err != nil {
		in.stats.ackFailures.Add(1)
		log.Warn("ack not published; the kiosk will send again and be acked then", "err", err)
		return fmt.Errorf("ingest %s: publish ack: %w", topic, err)
	}
	return nil
}

func (in *Ingest) reject(log *slog.Logger, what string, err error) error {
	in.stats.rejected.Add(1)
	log.Warn(what+", refused", "problem", err.Error())
	return fmt.Errorf("%w: %s: %w", ErrRejected, what, err)
}

func (in *Ingest) logger() *slog.Logger {
	if in.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return in.Logger
}

func (in *Ingest) now() time.Time {
	if in.Now == nil {
		return time.Now()
	}
	return in.Now()
}
