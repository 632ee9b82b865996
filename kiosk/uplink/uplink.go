// Package uplink carries the kiosk's journal to the hub over MQTT. It sends
// unacknowledged entries in sequence order, in batches at QoS 1, and marks
// them synced only when the hub's ack says it holds them: a completed
// publish token, or a broker's PUBACK, proves nothing about the hub.
//
// The journal is the only store of record. After every (re)connect, and
// whenever acks stop coming for AckTimeout (longer while the hub acks
// slowly: AckWait), sending starts again from the last acknowledged entry; the hub is idempotent on (kiosk, sequence), so
// sending twice is safe and losing a batch is not possible. A hub that
// keeps acknowledging less than it had (it lost entries: restored from an
// older backup, a database failover) is told from a late ack of a hub
// replica, and the kiosk sends again from the hub's ack (regress.go).
//
// Alerts jump the queue: each alert entry goes out at once, alone, on the
// alerts topic, however long the backlog on the entries topic; it is
// acknowledged like any other entry when the hub's contiguous sequence
// passes it. The uplink also keeps the kiosk's retained presence (online,
// with a last will saying offline) and receives the hub's downlink
// messages, storing each newer version in the journal: only those signed
// with the hub's downlink key pinned at enrollment (refused.go).
//
// Time (ack timeouts, batch waits, presence, the dial back-off of
// internal/backoff) is read from Config.Clock, so tests drive it with a
// fake clock. The guard's sentences for a link that cannot sync (Problem)
// come from the screen's catalogues (uplink_ keys).
//
// The kiosk's daemon and the drain benchmark (bench) import uplink; it
// imports journal, screen (for words), protocol and internal.
package uplink

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
	"github.com/google/uuid"
)

// Journal is what the uplink needs of the kiosk's journal.
type Journal interface {
	UnsentEncoded(ctx context.Context, after uint64, limit int) ([]journal.Encoded, error)
	UnsentAlerts(ctx context.Context, after uint64, limit int) ([]protocol.Entry, error)
	Acked(ctx context.Context) (uint64, error)
	Ack(ctx context.Context, contiguous uint64, at time.Time) (bool, error)
	// Rewind lowers the acknowledged position when the hub lost entries
	// it had acknowledged; Missing names those after it the journal no
	// longer holds (see checkRegression).
	Rewind(ctx context.Context, to uint64) (uint64, error)
	Missing(ctx context.Context) (from, to uint64, err error)
	SaveDownlink(ctx context.Context, d protocol.Downlink) (bool, error)
	// ID names the journal in every batch; Rebase renumbers it after a
	// replaced journal's entries at the hub (see journal.Rebase).
	ID() string
	Rebase(ctx context.Context, journal string, highest uint64, head [32]byte) (journal.Rebased, error)
}

// Config is the link's settings.
type Config struct {
	Broker   string // tcp://host:port, or tls:// (mqtts://, ssl://) with TLS
	Username string
	Password string
	// ClientID is the MQTT client id. An enrolled kiosk's is its username
	// (SITE/KIOSK): the closed broker refuses any other. "" is the id of
	// a kiosk that is not enrolled, gatepost-kiosk-KIOSK-SESSION.
	ClientID string
	// TLS is the configuration of a tls://, mqtts:// or ssl:// broker's
	// connections: an enrolled kiosk's trusts the CA it pinned alone. nil
	// is the system's roots. The server name defaults to the URL's host.
	TLS *tls.Config
	// DownlinkKey is the hub's downlink key pinned at enrollment: only
	// downlinks signed with it are stored and applied. nil (a kiosk not
	// enrolled) refuses every downlink.
	DownlinkKey ed25519.PublicKey
	// Key is the kiosk's identity key (kiosk/identity), the one enrolled
	// at the hub: every batch is signed with it (Batch.Sig), and the hub
	// stores nothing of a batch it does not verify. nil sends unsigned
	// batches, which only a hub that has no key of the kiosk takes (a
	// site in transition) and benchmarks measuring the cost of signing.
	Key         ed25519.PrivateKey
	Site, Kiosk string
	BatchSize   int           // a batch goes out when it holds this many entries...
	BatchWait   time.Duration // ...or when its first entry has waited this long (0: at once)
	MaxInFlight int           // batches sent ahead of the last ack
	AckTimeout  time.Duration // no ack progress for this long (longer while acks come late: AckWait): resend from the last ack
	GzipAbove   int           // compress batches whose JSON is longer (0: never)
	BackoffMin  time.Duration // reconnect back-off bounds (defaults 250ms, 30s)
	BackoffMax  time.Duration
	// Clock is the uplink's time: ack timeouts, batch waits, presence and
	// the dial back-off. nil is the wall clock.
	Clock clock.Clock
	// OnChange, if set, is called (from the uplink's goroutine, so it must
	// not block for long) whenever the link goes up or down, an ack moves
	// the synced position, or Problem changes.
	OnChange func()
	// OnDownlink, if set, is called from the uplink's goroutine after a
	// downlink newer than the one held was stored in the journal.
	OnDownlink func(protocol.Downlink)
	// Status, if set, fills in the presence message the kiosk publishes
	// (retained) on connecting and after RefreshStatus; Kiosk, Site,
	// Online and Time are set by the uplink.
	Status func() protocol.Status
}

// Stats counts what the uplink has done since it started.
type Stats struct {
	Batches         uint64 // batches published on the entries topic
	Alerts          uint64 // alert entries published on the alerts topic
	Entries         uint64 // entries published (resends included)
	Compressed      uint64 // batches sent gzipped
	Acks            uint64 // acks that moved the synced position
	Reconnects      uint64 // connections made after the first
	Resends         uint64 // rewinds to the last ack (reconnect or ack timeout)
	PublishFailures uint64
	BadMessages     uint64 // acks or downlinks refused as malformed
	Downlinks       uint64 // downlinks stored (newer than held)
	// Rebases counts renumberings of the journal after a replaced
	// journal's entries at the hub.
	Rebases uint64
	// DownlinksRefused counts downlinks that did not verify against the
	// pinned downlink key (forged, unsigned, signed for another purpose,
	// or any at all on a kiosk not enrolled). Nothing of them is stored.
	DownlinksRefused uint64
	// AcksAhead counts acks refused because they acknowledged more than
	// this kiosk has sent: never the hub's own (a forgery, or a hub
	// restored from another kiosk's backup). They are not applied, and not
	// kept for later.
	AcksAhead uint64
	// HubRegressions counts rewinds to a hub's lower ack: the hub kept
	// acknowledging less than it had (it lost entries), and the kiosk
	// sent again from its ack (see checkRegression).
	HubRegressions uint64
}

type stats struct {
	batches, alerts, entries, compressed, acks, connects, resends, publishFailures, badMessages, downlinks, rebases,
	acksAhead, downlinksRefused, hubRegressions atomic.Uint64
}

// Uplink is the kiosk's link to the hub.
type Uplink struct {
	cfg     Config
	journal Journal
	log     *slog.Logger
	clock   clock.Clock

	online    atomic.Bool
	wake      chan struct{} // new entry, ack, or connection change
	downlinks chan protocol.Downlink
	mu        sync.Mutex
	hubAck    uint64       // latest ack received and not yet applied (acks naming no journal)
	named     protocol.Ack // latest ack naming a journal; see applyAck
	// published is the highest sequence this uplink has published since it
	// started (at least the journal's ack position): no true ack of the hub
	// can go beyond it, so one that does is refused (see applyAck).
	published atomic.Uint64
	// mark is the send loop's acknowledged position (cursor.acked), for
	// onMessage to tell an ack below it; low is the run of such acks.
	mark atomic.Uint64
	low  lowRun // guarded by mu
	// publishes counts publishes of entries, so that a run of low acks
	// can tell an answer to a batch sent since it began (noteLow).
	publishes atomic.Uint64
	epoch     uint64 // bumped on each connect: sending restarts from the ack
	problem   string // see Problem; guarded by mu
	lastAck   atomic.Int64
	statusDue atomic.Bool
	stats     stats
	// probeEvery: see probe (a field so that tests can shorten it).
	probeEvery time.Duration
	// rounds counts passes of the send loop, so that a test driving a
	// fake clock can tell the loop has seen the time it set.
	rounds atomic.Uint64
	// session names this uplink's broker connection in its client id, its
	// online messages and its last will, so that the hub can tell a stale
	// will (from a connection the broker noticed dead only after this one
	// said online) from a current one.
	session string
	// refusedLog keeps a flood of refused downlinks to a line a minute.
	refusedLog logLimit
}

// New returns an uplink; Run starts it.
func New(cfg Config, j Journal, log *slog.Logger) *Uplink {
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = 250 * time.Millisecond
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = max(30*time.Second, cfg.BackoffMin)
	}
	return &Uplink{cfg: cfg, journal: j, log: log, clock: clock.Or(cfg.Clock), wake: make(chan struct{}, 1), probeEvery: probeEvery,
		downlinks: make(chan protocol.Downlink, 16), session: strings.ReplaceAll(uuid.NewString(), "-", "")[:12]}
}

// Online reports whether the MQTT connection is up.
func (u *Uplink) Online() bool { return u.online.Load() }

// Notify tells the uplink a new entry is in the journal.
func (u *Uplink) Notify() { u.poke() }

// RefreshStatus asks the uplink to publish the kiosk's presence message
// again (the downlink versions or the disk state changed).
func (u *Uplink) RefreshStatus() {
	u.statusDue.Store(true)
	u.poke()
}

// Stats returns the counters.
func (u *Uplink) Stats() Stats {
	s := &u.stats
	c := s.connects.Load()
	return Stats{
		Batches: s.batches.Load(), Alerts: s.alerts.Load(), Entries: s.entries.Load(),
		Compressed: s.compressed.Load(), Acks: s.acks.Load(), Reconnects: max(c, 1) - 1,
		Resends: s.resends.Load(), PublishFailures: s.publishFailures.Load(),
		BadMessages: s.badMessages.Load(), Downlinks: s.downlinks.Load(), Rebases: s.rebases.Load(),
		AcksAhead: s.acksAhead.Load(), DownlinksRefused: s.downlinksRefused.Load(),
		HubRegressions: s.hubRegressions.Load(),
	}
}

// Problem is a plain sentence for the guard's screen and `kiosk status`
// when the hub's acks cannot be applied and entries stay unsynced until a
// person acts (the journal was replaced and cannot be renumbered, or the
// hub lost entries this kiosk no longer holds); "" when there is none.
func (u *Uplink) Problem() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.problem
}

func (u *Uplink) setProblem(p string) {
	u.mu.Lock()
	changed := u.problem != p
	u.problem = p
	u.mu.Unlock()
	if changed {
		if p != "" {
			u.log.Warn("entries cannot be synced until someone acts", "problem", p)
		}
		u.changed()
	}
}

func (u *Uplink) poke() {
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

func (u *Uplink) changed() {
	if u.cfg.OnChange != nil {
		u.cfg.OnChange()
	}
}

// LastAck returns when an ack last moved the synced position, or zero.
func (u *Uplink) LastAck() time.Time {
	if n := u.lastAck.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}
