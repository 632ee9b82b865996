package ingest

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
)

// Store is the storage ingest needs.
type Store interface {
	SaveBatch(ctx context.Context, b protocol.Batch, received time.Time) (records.Saved, error)
	SaveStatus(ctx context.Context, st protocol.Status, received time.Time) (bool, error)
}

// ErrRejected is wrapped by the error Handle returns for a message it
// refuses, for one of protocol.RefusalReasons (named in the error): a
// kiosk not admitted, a bad topic, a malformed batch, a batch whose kiosk
// or site differs from its topic, a sequence beyond the window. Nothing
// is stored for such a message and it is not acknowledged.
var ErrRejected = errors.New("message rejected")

// Ingest handles batches. Set Store and Publish; the zero values of the
// other fields are usable. Use one Ingest from one goroutine at a time per
// kiosk, so acks for a kiosk go out in the order its batches were saved.
type Ingest struct {
	Store Store
	// Publish sends payload to topic at QoS 1 with the retain flag set, so a
	// kiosk that reconnects learns its contiguous sequence at once.
	Publish func(ctx context.Context, topic string, payload []byte) error
	// Send, if set, is Publish that does not wait: it hands the message to
	// the client, which sends in the order given, and returns a function
	// that waits for the PUBACK (hub/link.Send). A group's acks are then
	// sent together and waited for once, not one round trip each.
	Send   func(topic string, payload []byte) (wait func(context.Context) error)
	Logger *slog.Logger // nil discards
	Clock  clock.Clock  // received times and ack times; nil is the wall clock
	// SkewLimit: a batch whose sent time is further from the hub's clock
	// is logged and counted (0 means records.DefaultSkewLimit).
	SkewLimit time.Duration

	// Admit, if set, says whether the hub takes messages from kiosk at
	// site: nil to admit it, else an error. A batch, alert or status from a
	// kiosk not admitted is refused: nothing stored, no ack. Its answer is
	// kept AdmitFor. A nil Admit admits every kiosk.
	Admit func(ctx context.Context, site, kiosk string) error
	// AdmitReasons classifies Admit's errors: an error matching a
	// sentinel (errors.Is) is refused for its reason, e.g.
	// registry.ErrRetired -> protocol.RefusedRetired (the sentinels must
	// not match one another). An Admit error matching none is a failure
	// to decide: the message is dropped unacknowledged (the kiosk sends it
	// again), counted in Stats.AdmitErrors, and the answer is not kept.
	AdmitReasons map[error]string
	// TestSite, if set, says whether a site takes entries from simulated
	// devices; a batch holding one from any other site is refused whole
	// (RefusedSimulated). Nil takes them from every site.
	TestSite func(ctx context.Context, site string) bool
	// KioskKey, if set, returns the key kiosk enrolled with at site: a
	// batch is stored only if its signature verifies against it, else it
	// is refused whole (RefusedSignature, signature.go). A nil key with a
	// nil error is a kiosk admitted without enrolling (a site in
	// transition), whose batches are taken unsigned. Nil checks no
	// signature (benchmarks measuring what signatures cost).
	KioskKey func(ctx context.Context, site, kiosk string) (ed25519.PublicKey, error)
	// AdmitFor is how long an answer of Admit is kept (0 means
	// DefaultAdmitFor).
	AdmitFor time.Duration

	// BatchRate and BatchBurst limit each kiosk's batches and statuses,
	// AlertRate and AlertBurst its alerts, apart (see Allow); 0 means
	// the Default*.
	BatchRate, AlertRate   float64
	BatchBurst, AlertBurst int

	// Alarm, if set, is told of refusals that are security events (a kiosk
	// not admitted, an identity differing from its topic, a sequence beyond
	// the window, a flood), at most once per kiosk and reason per
	// AlarmEvery: the hub raises a console alert (hub/alerts.Refusals).
	// It is called from several goroutines at once (Allow runs on the
	// link's) and must not block.
	Alarm func(site, kiosk, reason, detail string)
	// AlarmEvery: 0 means DefaultAlarmEvery.
	AlarmEvery time.Duration

	// GroupBatches and GroupEntries bound a group commit (Run): at most
	// this many batches, and about this many entries, share one
	// transaction; 0 means DefaultGroupBatches and DefaultGroupEntries.
	// GroupBatches 1 stores each batch in its own transaction.
	GroupBatches, GroupEntries int
	// GroupWait, if above 0, is how long a group that is not full waits
	// for more batches before it commits (never when it holds an alert):
	// at rush hour, when batches arrive apart, it lets a few share one
	// commit and fsync, for that much more latency. 0 commits at once.
	GroupWait time.Duration

	initOnce        sync.Once
	admits          kept[admission]
	keys            kept[ed25519.PublicKey]
	batches, alerts *limiter
	lines, alarms   *quiet
	stats           stats
}

// Stats counts what an Ingest has done since it was created.
type Stats struct {
	Batches    uint64 // batches stored (duplicates included) and acknowledged or attempted
	Inserted   uint64 // entries newly stored
	Duplicates uint64 // entries already held, identical
	Conflicts  uint64 // entries refused because a different entry is held
	// Replaced counts batches from a kiosk journal other than the one the
	// hub holds (the kiosk's journal was replaced): nothing of them is
	// stored, and the ack tells the kiosk where to renumber from.
	Replaced    uint64
	Alerts      uint64 // batches received on an alerts topic (included in Batches)
	Statuses    uint64 // presence messages stored (stale wills included)
	StaleWills  uint64 // of Statuses: last wills of connections the kiosk had replaced, ignored
	Skewed      uint64 // batches whose kiosk clock was off by more than SkewLimit
	Rejected    uint64 // messages refused, for any reason (the sum of Refused)
	Mismatched  uint64 // of Rejected: topic and message disagree on kiosk or site
	StoreErrors uint64 // batches not stored because storage failed
	AckFailures uint64 // acks that could not be published
	AdmitErrors uint64 // messages dropped because Admit failed without deciding
	// Deferred counts batches a group left for the next because another
	// replica was storing their kiosk's batches (DeferringStore).
	Deferred uint64
	// Refused counts refusals by reason, every protocol.RefusalReasons
	// present (queue_full stays 0 here: hub/link counts it).
	Refused map[string]uint64
}

type stats struct {
	batches, inserted, duplicates, conflicts, rejected, mismatched, storeErrors, ackFailures atomic.Uint64
	alerts, statuses, skewed, staleWills, replaced, admitErrors, deferred                    atomic.Uint64
	refused                                                                                  reasonCounters
}

// Stats returns the counters.
func (in *Ingest) Stats() Stats {
	s := &in.stats
	return Stats{
		Batches: s.batches.Load(), Inserted: s.inserted.Load(), Duplicates: s.duplicates.Load(),
		Conflicts: s.conflicts.Load(), Rejected: s.rejected.Load(), Mismatched: s.mismatched.Load(),
		StoreErrors: s.storeErrors.Load(), AckFailures: s.ackFailures.Load(),
		Alerts: s.alerts.Load(), Statuses: s.statuses.Load(), Skewed: s.skewed.Load(),
		StaleWills: s.staleWills.Load(), Replaced: s.replaced.Load(), AdmitErrors: s.admitErrors.Load(),
		Deferred: s.deferred.Load(),
		Refused:  s.refused.snapshot(),
	}
}

// Handle processes one message from a kiosk's entries, alerts or status
// topic. It logs what it refuses and why (the protocol's field error
// text), so callers need not log the returned error again; the error is
// for callers that branch on it: errors.Is(err, ErrRejected) for a
// refused message, anything else for a storage or publish failure the
// kiosk's retry will cover. Handle does not apply the rate limit: Run
// does (Allow).
func (in *Ingest) Handle(ctx context.Context, topic string, payload []byte) error {
	return in.Save(ctx, in.Decode(ctx, topic, payload))
}

// Decoded is a message checked by Decode and ready for Save.
type Decoded struct {
	topic, site, kiosk, leaf string
	payload                  []byte         // status messages: decoded by Save
	batch                    protocol.Batch // entries and alerts
	err                      error          // already logged and counted
	deferrals                int            // groups that left it for its kiosk was busy (maxDeferrals)
}

// Decode parses a message and checks it against its topic and the
// register (Admit): the part of Handle that does not write, so a caller
// may run it on another goroutine, ahead of Save. Refusals are logged and
// counted here.
//
// Whose message it is comes from the topic. The topic is the identity the
// broker authenticated: the broker's access rule (hub/broker.Closed, or
// the Mosquitto ACL from hub/brokerconf) lets a kiosk's login publish
// only to its own site's and kiosk's topics, so a message on
// huamu-1/gate-1's topic was sent with gate-1's credentials. The message
// must then name the same site and kiosk, and that kiosk must be one the
// register admits.
func (in *Ingest) Decode(ctx context.Context, topic string, payload []byte) Decoded {
	in.init()
	site, kiosk, leaf, err := protocol.ParseKioskTopic(topic)
	if err != nil {
		return Decoded{err: in.refuse(refusal{topic: topic, reason: protocol.RefusedBadMessage,
			err: fmt.Errorf("bad topic: %w", err)})}
	}
	d := Decoded{topic: topic, site: site, kiosk: kiosk, leaf: leaf}
	if len(payload) > protocol.MaxMessageBytes {
		d.err = in.refuse(refusal{site: site, kiosk: kiosk, topic: topic, reason: protocol.RefusedTooLarge,
			err: fmt.Errorf("%d bytes, over the %d byte limit", len(payload), protocol.MaxMessageBytes)})
		return d
	}
	if d.err = in.admitted(ctx, site, kiosk, topic); d.err != nil {
		return d
	}
	if leaf == "status" {
		d.payload = payload
		return d
	}
	b, err := protocol.DecodeBatchPayload(payload)
	if err != nil {
		d.err = in.refuse(refusal{site: site, kiosk: kiosk, topic: topic, reason: protocol.RefusedBadMessage,
			err: fmt.Errorf("bad batch: %w", err)})
		return d
	}
	// The topic is what the broker authorised; the batch is what the kiosk
	// claims. Trust neither without the other.
	if b.Kiosk != kiosk || b.Site != site {
		in.stats.mismatched.Add(1)
		d.err = in.refuse(refusal{site: site, kiosk: kiosk, topic: topic, reason: protocol.RefusedIdentity,
			err: fmt.Errorf("batch from %s/%s on the topic of %s/%s", b.Site, b.Kiosk, site, kiosk)})
		return d
	}
	if in.TestSite != nil && slices.ContainsFunc(b.Entries, func(e protocol.Entry) bool { return e.Simulated }) && !in.TestSite(ctx, site) {
		d.err = in.refuse(refusal{site: site, kiosk: kiosk, topic: topic, reason: protocol.RefusedSimulated,
			err: fmt.Errorf("entries from simulated devices, and %s is not a test site: set simulate = false on the kiosk, "+
				"or mark the site as a test site (hub kiosks test-site --site %s)", site, site)})
		return d
	}
	if d.err = in.checkSignature(ctx, site, kiosk, topic, &b); d.err != nil {
		return d
	}
	d.batch = b
	return d
}

// Save stores what Decode accepted and publishes the ack; it returns
// Decode's error for a refused message. Call it from one goroutine, in the
// order the messages arrived. Run saves in groups instead (SaveGroup).
func (in *Ingest) Save(ctx context.Context, d Decoded) error {
	return in.SaveGroup(ctx, []Decoded{d})[0]
}

// settle counts and logs what storing d's batch did (saved, or err from
// the store) and, when it was stored, returns the kiosk's ack to publish.
// It runs only after the transaction holding the batch has committed.
func (in *Ingest) settle(d Decoded, saved records.Saved, err error, now time.Time) ([]byte, error) {
	topic, site, kiosk, leaf, b := d.topic, d.site, d.kiosk, d.leaf, d.batch
	log := in.logger().With("topic", topic, "kiosk", kiosk)
	if reason := storageRefusal(err); reason != "" {
		if reason == protocol.RefusedBadMessage {
			err = fmt.Errorf("batch refused by storage: %w", err)
		}
		return nil, in.refuse(refusal{site: site, kiosk: kiosk, topic: topic, reason: reason, err: err})
	}
	if err != nil {
		in.notStored(log, "batch", err)
		return nil, fmt.Errorf("ingest %s: %w", topic, err)
	}
	in.stats.batches.Add(1)
	if leaf == "alerts" {
		in.stats.alerts.Add(1)
		log.Warn("alert received", "seq", b.Entries[0].Seq, "reasons", b.Entries[0].Reasons, "new", saved.Inserted > 0)
	}
	in.report(log, d, saved, now)
	ack, err := protocol.EncodeAck(ackOf(kiosk, saved, now))
	if err != nil { // cannot happen for a kiosk that passed DecodeBatch
		in.stats.ackFailures.Add(1)
		return nil, fmt.Errorf("ingest %s: encode ack: %w", topic, err)
	}
	return ack, nil
}

// report counts and logs what a stored batch held: a kiosk clock off, a
// replaced journal, conflicts.
func (in *Ingest) report(log *slog.Logger, d Decoded, saved records.Saved, now time.Time) {
	site, kiosk, b := d.site, d.kiosk, d.batch
	if skew := now.Sub(b.Sent); skew > in.skewLimit() || -skew > in.skewLimit() {
		in.stats.skewed.Add(1)
		if ok, n := in.lines.allow(site+"/"+kiosk, "skew"); ok {
			log.Warn("kiosk clock is off; order is by sequence, so nothing is misordered", "skew", skew.Round(time.Millisecond), "suppressed", n)
		}
	}
	if saved.Replaced {
		in.stats.replaced.Add(1)
		what := fmt.Sprintf("security: %s sent entries from a new journal (%s, seq %d..%d) and none were stored; "+
			"the hub holds journal %s up to %d; ", kiosk, b.Journal, b.Entries[0].Seq, b.Entries[len(b.Entries)-1].Seq,
			saved.Journal, saved.Highest)
		if saved.Contiguous == saved.Highest {
			what += fmt.Sprintf("the kiosk will renumber its entries after %d", saved.Highest)
		} else {
			what += fmt.Sprintf("it lacks some of them (holds 1..%d contiguously), so the kiosk cannot renumber its entries yet: "+
				"import the missing ones from the old journal (kiosk export, hub import) and it will", saved.Contiguous)
		}
		if ok, n := in.lines.allow(site+"/"+kiosk, "replaced"); ok { // a line a minute: the kiosk resends until it renumbers
			log.Warn(what, "journal", b.Journal, "held_journal", saved.Journal, "contiguous", saved.Contiguous, "highest", saved.Highest,
				"suppressed", n)
		}
	}
	in.stats.inserted.Add(uint64(saved.Inserted))
	in.stats.duplicates.Add(uint64(saved.Duplicates))
	in.stats.conflicts.Add(uint64(saved.Conflicts))
	if saved.Conflicts > 0 {
		if ok, n := in.lines.allow(site+"/"+kiosk, "conflict"); ok { // counted in full on /metrics and the kiosk's row
			log.Warn("security: entries differ from those held, refused",
				"seqs", saved.ConflictSeqs, "conflicts", saved.Conflicts, "suppressed", n)
		}
	}
	log.Debug("batch stored", "first", b.Entries[0].Seq, "last", b.Entries[len(b.Entries)-1].Seq,
		"inserted", saved.Inserted, "duplicates", saved.Duplicates, "contiguous", saved.Contiguous)
}

// notStored reports what storage did not take: a storage fault, counted
// and logged as an error, or the hub stopping (its context canceled, as
// the kiosks' last wills arrive when a hub stops), said at info: no fault,
// and the kiosk sends it again to the next start.
func (in *Ingest) notStored(log *slog.Logger, what string, err error) {
	if errors.Is(err, context.Canceled) {
		log.Info(what+" not stored: the hub is stopping; the kiosk sends it again", "err", err)
		return
	}
	in.stats.storeErrors.Add(1)
	log.Error(what+" not stored; the kiosk will send it again", "err", err)
}

func (in *Ingest) handleStatus(ctx context.Context, log *slog.Logger, site, kiosk string, payload []byte) error {
	topic := protocol.StatusTopic(site, kiosk)
	st, err := protocol.DecodeStatus(payload)
	if err != nil {
		return in.refuse(refusal{site: site, kiosk: kiosk, topic: topic, reason: protocol.RefusedBadMessage,
			err: fmt.Errorf("bad status: %w", err)})
	}
	if st.Kiosk != kiosk || st.Site != site {
		in.stats.mismatched.Add(1)
		return in.refuse(refusal{site: site, kiosk: kiosk, topic: topic, reason: protocol.RefusedIdentity,
			err: fmt.Errorf("status from %s/%s on the topic of %s/%s", st.Site, st.Kiosk, site, kiosk)})
	}
	applied, err := in.Store.SaveStatus(ctx, st, in.now())
	if err != nil {
		in.notStored(log, "status", err)
		return fmt.Errorf("ingest %s: %w", kiosk, err)
	}
	in.stats.statuses.Add(1)
	if !applied {
		in.stats.staleWills.Add(1)
		log.Info("stale last will ignored: the kiosk has reconnected since", "kiosk", kiosk, "session", st.Session)
		return nil
	}
	log.Info("kiosk presence", "kiosk", kiosk, "online", st.Online, "unsynced", st.Unsynced, "disk_low", st.DiskLow)
	return nil
}

func (in *Ingest) skewLimit() time.Duration {
	if in.SkewLimit <= 0 {
		return records.DefaultSkewLimit
	}
	return in.SkewLimit
}

// init makes the limiters once, from the fields as they are at the first
// message.
func (in *Ingest) init() {
	in.initOnce.Do(func() {
		rate := func(v, def float64) float64 { return cmp.Or(max(v, 0), def) }
		burst := func(v, def int) int { return cmp.Or(max(v, 0), def) }
		in.batches = newLimiter(rate(in.BatchRate, DefaultBatchRate), burst(in.BatchBurst, DefaultBatchBurst), in.Clock)
		in.alerts = newLimiter(rate(in.AlertRate, DefaultAlertRate), burst(in.AlertBurst, DefaultAlertBurst), in.Clock)
		in.lines = newQuiet(logEvery, in.Clock)
		alarmEvery := in.AlarmEvery
		if alarmEvery <= 0 {
			alarmEvery = DefaultAlarmEvery
		}
		in.alarms = newQuiet(alarmEvery, in.Clock)
	})
}

func (in *Ingest) logger() *slog.Logger {
	if in.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return in.Logger
}

func (in *Ingest) now() time.Time { return clock.Or(in.Clock).Now() }

// storageRefusal is the refusal reason for an error of SaveBatch that
// refuses the batch, "" for none (nil, or storage failing).
func storageRefusal(err error) string {
	switch {
	case errors.Is(err, records.ErrSeqWindow):
		return protocol.RefusedSeqWindow
	case errors.Is(err, records.ErrChain):
		return protocol.RefusedChain
	case errors.Is(err, protocol.ErrInvalid):
		return protocol.RefusedBadMessage
	}
	return ""
}

// ackOf is the ack for what SaveBatch saved: where the kiosk's held
// journal stands, and the chain hash at its contiguous sequence.
func ackOf(kiosk string, saved records.Saved, now time.Time) protocol.Ack {
	a := protocol.Ack{Kiosk: kiosk, Contiguous: saved.Contiguous,
		Journal: saved.Journal, Highest: saved.Highest, Time: now}
	if saved.HasHead {
		a.Head = protocol.HashText(saved.Head)
	}
	return a
}
