// Package uplink carries the kiosk's journal to the hub over MQTT. It sends
// unacknowledged entries in sequence order, in batches at QoS 1, and marks
// them synced only when the hub's ack says it holds them: a completed
// publish token, or a broker's PUBACK, proves nothing about the hub.
//
// The journal is the only store of record. After every (re)connect, and
// whenever acks stop coming for AckTimeout, sending starts again from the
// last acknowledged entry; the hub is idempotent on (kiosk, sequence), so
// sending twice is safe and losing a batch is not possible.
//
// Alerts jump the queue: each alert entry goes out at once, alone, on the
// alerts topic, however long the backlog on the entries topic; it is
// acknowledged like any other entry when the hub's contiguous sequence
// passes it. The uplink also keeps the kiosk's retained presence (online,
// with a last will saying offline) and receives the hub's downlink
// messages, storing each newer version in the journal.
//
// Only the kiosk's packages import uplink.
package uplink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
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
	SaveDownlink(ctx context.Context, d protocol.Downlink) (bool, error)
	// ID names the journal in every batch; Rebase renumbers it after a
	// replaced journal's entries at the hub (see journal.Rebase).
	ID() string
	Rebase(ctx context.Context, journal string, highest uint64) (journal.Rebased, error)
}

// Config is the link's settings.
type Config struct {
	Broker      string // tcp://host:port
	Username    string
	Password    string
	Site, Kiosk string
	BatchSize   int           // a batch goes out when it holds this many entries...
	BatchWait   time.Duration // ...or when its first entry has waited this long (0: at once)
	MaxInFlight int           // batches sent ahead of the last ack
	AckTimeout  time.Duration // no ack progress for this long: resend from the last ack
	GzipAbove   int           // compress batches whose JSON is longer (0: never)
	BackoffMin  time.Duration // reconnect back-off bounds (defaults 250ms, 30s)
	BackoffMax  time.Duration
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
}

type stats struct {
	batches, alerts, entries, compressed, acks, connects, resends, publishFailures, badMessages, downlinks, rebases atomic.Uint64
}

// Uplink is the kiosk's link to the hub.
type Uplink struct {
	cfg     Config
	journal Journal
	log     *slog.Logger

	online    atomic.Bool
	wake      chan struct{} // new entry, ack, or connection change
	downlinks chan protocol.Downlink
	mu        sync.Mutex
	hubAck    uint64       // highest ack received and not yet applied (acks naming no journal, or ours)
	named     protocol.Ack // latest ack naming a journal; see applyAck
	epoch     uint64       // bumped on each connect: sending restarts from the ack
	problem   string       // see Problem; guarded by mu
	lastAck   atomic.Int64
	statusDue atomic.Bool
	stats     stats
	// probeEvery: see probe (a field so that tests can shorten it).
	probeEvery time.Duration
	// session names this uplink's broker connection in its client id, its
	// online messages and its last will, so that the hub can tell a stale
	// will (from a connection the broker noticed dead only after this one
	// said online) from a current one.
	session string
}

// New returns an uplink; Run starts it.
func New(cfg Config, j Journal, log *slog.Logger) *Uplink {
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = 250 * time.Millisecond
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = max(30*time.Second, cfg.BackoffMin)
	}
	return &Uplink{cfg: cfg, journal: j, log: log, wake: make(chan struct{}, 1), probeEvery: probeEvery,
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
	}
}

// Problem is a plain sentence for the guard's screen and `kiosk status`
// when the hub's acks cannot be applied and entries stay unsynced until a
// person acts (the journal was replaced and cannot be renumbered); "" when
// there is none.
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

// Run connects and sends until ctx is done. It returns nil on cancel; a
// broker that is down is not an error: the kiosk keeps journaling and the
// uplink keeps trying.
func (u *Uplink) Run(ctx context.Context) error {
	dialCtx, stopDial := context.WithCancel(context.Background())
	client := mqtt.NewClient(u.options(dialCtx))
	// With ConnectRetry the token completes only when connected or on
	// Disconnect; nothing waits on it.
	client.Connect()
	defer func() {
		// A clean goodbye: say offline (the will is only for a dead link).
		if u.online.Load() {
			if p, err := u.statusPayload(false); err == nil {
				client.Publish(protocol.StatusTopic(u.cfg.Site, u.cfg.Kiosk), 1, true, p).WaitTimeout(time.Second)
			}
		}
		stopDial()
		client.Disconnect(250)
		u.online.Store(false)
	}()
	return u.send(ctx, client)
}

func (u *Uplink) options(dialCtx context.Context) *mqtt.ClientOptions {
	o := mqtt.NewClientOptions().
		AddBroker(u.cfg.Broker).
		SetClientID("gatepost-kiosk-" + u.cfg.Kiosk + "-" + u.session).
		SetUsername(u.cfg.Username).
		SetPassword(u.cfg.Password).
		SetCleanSession(true). // the journal is the store of record, not paho's
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectTimeout(10 * time.Second).
		SetWriteTimeout(10 * time.Second).
		SetKeepAlive(15 * time.Second).
		SetOrderMatters(false)
	if will, err := u.statusPayload(false); err == nil {
		o.SetBinaryWill(protocol.StatusTopic(u.cfg.Site, u.cfg.Kiosk), will, 1, true)
	}
	if uri, err := url.Parse(u.cfg.Broker); err == nil && (uri.Scheme == "tcp" || uri.Scheme == "mqtt") {
		// Our dialer does the back-off, with jitter; paho's waits are a tick.
		d := &dialer{ctx: dialCtx, timeout: 10 * time.Second, min: u.cfg.BackoffMin, max: u.cfg.BackoffMax}
		o.SetCustomOpenConnectionFn(d.open).
			SetConnectRetryInterval(50 * time.Millisecond).
			SetMaxReconnectInterval(50 * time.Millisecond)
		o.SetOnConnectHandler(func(c mqtt.Client) { d.reset(); u.onConnect(c) })
	} else {
		o.SetConnectRetryInterval(time.Second).SetMaxReconnectInterval(u.cfg.BackoffMax)
		o.SetOnConnectHandler(u.onConnect)
	}
	o.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		u.online.Store(false)
		u.log.Warn("hub link lost", "err", err)
		u.poke()
		u.changed()
	})
	return o
}

func (u *Uplink) statusPayload(online bool) ([]byte, error) {
	var st protocol.Status
	if online && u.cfg.Status != nil {
		st = u.cfg.Status()
	}
	st.Kiosk, st.Site, st.Online, st.Session = u.cfg.Kiosk, u.cfg.Site, online, u.session
	if online {
		st.Time = time.Now()
	} else {
		st.Time = time.Time{}
	}
	return protocol.EncodeStatus(st)
}

func (u *Uplink) onConnect(c mqtt.Client) {
	subs := map[string]byte{protocol.AckTopic(u.cfg.Site, u.cfg.Kiosk): 1}
	for _, f := range protocol.DownlinkSubscriptions(u.cfg.Site, u.cfg.Kiosk) {
		subs[f] = 1
	}
	tok := c.SubscribeMultiple(subs, u.onMessage)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		u.log.Warn("subscribe to acks failed; reconnecting", "err", tok.Error())
		// Without acks nothing can be marked synced: drop the connection
		// so auto-reconnect tries again from scratch.
		go c.Disconnect(0)
		return
	}
	u.mu.Lock()
	u.epoch++
	u.mu.Unlock()
	u.stats.connects.Add(1)
	u.online.Store(true)
	u.statusDue.Store(true)
	u.log.Info("hub link up", "broker", u.cfg.Broker)
	u.poke()
	u.changed()
}

// onMessage runs on paho's goroutine: it must not block, so it only
// records the highest ack, or queues a downlink, and wakes the sender.
func (u *Uplink) onMessage(_ mqtt.Client, m mqtt.Message) {
	if m.Topic() != protocol.AckTopic(u.cfg.Site, u.cfg.Kiosk) {
		d, err := protocol.DecodeDownlink(m.Payload())
		switch {
		case err != nil:
			u.stats.badMessages.Add(1)
			u.log.Warn("ignoring bad downlink from hub", "topic", m.Topic(), "err", err)
			return
		case d.Site != u.cfg.Site || (d.Kiosk != "" && d.Kiosk != u.cfg.Kiosk) ||
			m.Topic() != protocol.DownlinkTopic(d.Site, d.Kiosk, d.Kind):
			u.stats.badMessages.Add(1)
			u.log.Warn("ignoring downlink addressed elsewhere", "topic", m.Topic(), "site", d.Site, "kiosk", d.Kiosk)
			return
		}
		select {
		case u.downlinks <- d:
			u.poke()
		default:
			// Retained: it comes again on the next connect.
			u.log.Warn("downlink queue full; dropped until the next connect", "kind", d.Kind, "version", d.Version)
		}
		return
	}
	a, err := protocol.DecodeAck(m.Payload())
	if err != nil {
		u.stats.badMessages.Add(1)
		u.log.Warn("ignoring bad ack from hub", "topic", m.Topic(), "err", err)
		return
	}
	if a.Kiosk != u.cfg.Kiosk {
		u.stats.badMessages.Add(1)
		u.log.Warn("ignoring ack for another kiosk", "topic", m.Topic(), "kiosk", a.Kiosk)
		return
	}
	u.mu.Lock()
	switch {
	case a.Journal == "": // a hub from before journal ids
		u.hubAck = max(u.hubAck, a.Contiguous)
	case a.Journal != u.named.Journal || a.Contiguous >= u.named.Contiguous:
		// Which journal it names is judged by the send loop, which owns
		// the journal (a rebase changes our id).
		u.named = a
	}
	u.mu.Unlock()
	u.poke()
}

// LastAck returns when an ack last moved the synced position, or zero.
func (u *Uplink) LastAck() time.Time {
	if n := u.lastAck.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// statusEvery republishes presence, so the hub's view of the unsynced
// count stays fresh. It is shorter than the broker's keep-alive grace (1.5
// x 15 s): after a cut the broker may publish the old connection's will
// ("offline") after the new connection said online, and the next
// republish corrects it within this bound.
const statusEvery = 20 * time.Second

// cursor is the send loop's position.
type cursor struct {
	acked     uint64    // the hub holds 1..acked (recorded in the journal)
	blocked   bool      // the hub holds another journal and ours cannot be renumbered (Problem)
	probed    time.Time // while blocked: the last batch sent to learn whether that changed
	seenNamed protocol.Ack
	sent      uint64    // highest sequence published since the last rewind
	alertSent uint64    // highest alert published since the last rewind
	progress  time.Time // last ack progress or rewind
	waiting   time.Time // since when a partial batch has been held back
}

// send is the single loop that reads the journal and publishes batches.
func (u *Uplink) send(ctx context.Context, c mqtt.Client) error {
	acked, err := u.journal.Acked(ctx)
	if err != nil {
		return fmt.Errorf("uplink: %w", err)
	}
	cur := cursor{acked: acked, sent: acked, alertSent: acked, progress: time.Now()}
	var epoch uint64
	var lastStatus time.Time
	tick := time.NewTicker(u.cfg.AckTimeout / 4)
	defer tick.Stop()
	// batchDue fires when a held-back partial batch has waited BatchWait.
	batchDue := time.NewTimer(time.Hour)
	defer batchDue.Stop()
	for {
		u.applyDownlinks(ctx)
		u.applyAck(ctx, &cur)
		u.mu.Lock()
		curEpoch := u.epoch
		u.mu.Unlock()
		if curEpoch != epoch { // a new connection: replay from the ack
			epoch = curEpoch
			u.rewind(&cur)
		}
		if cur.sent > cur.acked && time.Since(cur.progress) > u.cfg.AckTimeout {
			u.log.Warn("no ack from the hub in time; resending", "from", cur.acked+1, "sent", cur.sent)
			u.rewind(&cur)
		}
		if u.online.Load() {
			if u.statusDue.Swap(false) || time.Since(lastStatus) > statusEvery {
				u.publishStatus(c)
				lastStatus = time.Now()
			}
			if cur.sent == cur.acked {
				cur.progress = time.Now() // nothing outstanding: time the next window from now
			}
			var err error
			if cur.blocked {
				err = u.probe(ctx, c, &cur)
			} else {
				err = u.publishAlerts(ctx, c, &cur)
				if err == nil {
					err = u.publishAhead(ctx, c, &cur)
				}
			}
			if err != nil && ctx.Err() == nil {
				u.stats.publishFailures.Add(1)
				u.log.Warn("publish failed; will retry", "err", err)
			}
			if !cur.waiting.IsZero() {
				batchDue.Reset(max(u.cfg.BatchWait-time.Since(cur.waiting), time.Millisecond))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-u.wake:
		case <-tick.C:
		case <-batchDue.C:
		}
	}
}

func (u *Uplink) rewind(cur *cursor) {
	if cur.sent > cur.acked || cur.alertSent > cur.acked {
		u.stats.resends.Add(1)
	}
	cur.sent, cur.alertSent, cur.progress, cur.waiting = cur.acked, cur.acked, time.Now(), time.Time{}
}

// applyAck records in the journal any ack the hub sent. An ack naming
// another journal than ours is never taken as an ack of our entries: it
// says the hub holds entries of this kiosk from a journal ours replaced
// (see replacedJournal).
func (u *Uplink) applyAck(ctx context.Context, cur *cursor) {
	u.mu.Lock()
	hubAck, named := u.hubAck, u.named
	u.mu.Unlock()
	if named.Journal != "" {
		if named.Journal == u.journal.ID() {
			hubAck = max(hubAck, named.Contiguous)
		} else if named != cur.seenNamed {
			cur.seenNamed = named
			u.replacedJournal(ctx, cur, named)
		}
	}
	if hubAck <= cur.acked {
		return
	}
	changed, err := u.journal.Ack(ctx, hubAck, time.Now())
	switch {
	case errors.Is(err, journal.ErrAckAhead):
		u.setProblem(fmt.Sprintf("总台记录多于本机记录库，新记录暂不同步，均已保留。请联系维护人员。 The hub says it holds entries 1..%d of %s, "+
			"more than this journal ever wrote: the journal was replaced (by a new or an older copy) and the hub cannot tell journals "+
			"apart (a hub from before journal ids). Nothing is lost: entries made here are kept, unsynced. Update the hub, "+
			"or call maintenance.", hubAck, u.cfg.Kiosk))
		u.log.Error("cannot record the hub's ack", "ack", hubAck, "err", err)
	case err != nil:
		u.log.Error("cannot record the hub's ack", "ack", hubAck, "err", err)
	case changed:
		cur.acked = hubAck
		cur.progress = time.Now()
		u.lastAck.Store(cur.progress.UnixNano())
		u.stats.acks.Add(1)
		if !cur.blocked {
			u.setProblem("")
		}
		u.changed()
	}
	cur.sent = max(cur.sent, cur.acked)
	cur.alertSent = max(cur.alertSent, cur.acked)
}

// replacedJournal handles an ack naming another journal than ours: the
// hub holds entries of this kiosk id from an earlier journal (the card
// was replaced, or `kiosk init` run again), and refuses ours, which number
// from 1 again. If the hub has acknowledged nothing of ours and holds the
// earlier journal without gaps, the journal renumbers its entries after
// the hub's highest and takes the earlier journal's id, and sending
// starts again from there. Otherwise nothing is renumbered or marked
// synced, entries stay in the journal (exportable), and Problem says what
// a person must do.
func (u *Uplink) replacedJournal(ctx context.Context, cur *cursor, a protocol.Ack) {
	highest := max(a.Highest, a.Contiguous)
	if !cur.blocked {
		cur.probed = time.Now() // the hub has just answered
	}
	if a.Contiguous != highest {
		cur.blocked = true
		u.setProblem(fmt.Sprintf("总台缺少旧记录库的部分记录，本机记录暂不同步，均已保留。 The hub holds entries of %s from an earlier journal "+
			"but lacks some of them (it holds 1..%d, and entries up to %d), so this kiosk cannot number its entries after them yet. "+
			"Nothing is lost: they are kept here. If the old journal's card is at hand, run kiosk export on it and hub import at the hub; "+
			"this kiosk then renumbers and sends its entries by itself.", u.cfg.Kiosk, a.Contiguous, highest))
		return
	}
	r, err := u.journal.Rebase(ctx, a.Journal, highest)
	switch {
	case errors.Is(err, journal.ErrRebaseUnsafe):
		cur.blocked = true
		u.setProblem(fmt.Sprintf("总台存有本终端编号的另一份记录库，本机记录暂不同步，均已保留。请联系维护人员。 The hub holds entries of %s "+
			"up to %d from another journal, but it had already acknowledged entries of this one: two kiosks may be set up as %s, "+
			"or the hub's data was replaced. Nothing is lost: this kiosk keeps its entries (kiosk export copies them). "+
			"Check that no other kiosk uses the id %s, then call maintenance.", u.cfg.Kiosk, highest, u.cfg.Kiosk, u.cfg.Kiosk))
		return
	case err != nil:
		// Nothing changed; the hub says the same at the next batch.
		cur.seenNamed = protocol.Ack{}
		u.log.Error("cannot renumber the journal after the hub's entries; will try again", "err", err)
		return
	}
	u.stats.rebases.Add(1)
	u.log.Warn(fmt.Sprintf("this kiosk's journal replaced an earlier one: the hub holds entries 1..%d of %s from it, "+
		"so the %d entries here were renumbered %d..%d and will be sent now", highest, u.cfg.Kiosk, r.Entries, highest+1, r.LastSeq),
		"journal", a.Journal, "entries", r.Entries)
	cur.blocked = false
	cur.acked = highest
	u.rewind(cur)
	u.lastAck.Store(time.Now().UnixNano())
	u.setProblem("")
	u.statusDue.Store(true)
	u.changed()
}

// probeEvery is how often a blocked uplink sends one batch, so that the
// hub says again where it stands (the missing entries may have been
// imported meanwhile).
const probeEvery = time.Minute

// probe sends, every probeEvery, one batch of the first unsynced entry:
// the hub's answer may now allow a rebase.
func (u *Uplink) probe(ctx context.Context, c mqtt.Client, cur *cursor) error {
	if time.Since(cur.probed) < u.probeEvery {
		return nil
	}
	cur.probed = time.Now()
	cur.seenNamed = protocol.Ack{} // hear the hub's answer even if it is the same
	entries, err := u.journal.UnsentEncoded(ctx, cur.acked, 1)
	if err != nil || len(entries) == 0 {
		return err
	}
	payload, err := protocol.EncodeBatchOfEncoded(u.cfg.Kiosk, u.cfg.Site, u.journal.ID(), time.Now(), [][]byte{entries[0].Body}, 0)
	if err != nil {
		return fmt.Errorf("encode batch: %w", err)
	}
	u.stats.batches.Add(1)
	return waitToken(u.publishPayload(c, protocol.EntriesTopic(u.cfg.Site, u.cfg.Kiosk), payload, 1))
}

func (u *Uplink) applyDownlinks(ctx context.Context) {
	for {
		select {
		case d := <-u.downlinks:
			newer, err := u.journal.SaveDownlink(ctx, d)
			if err != nil {
				u.log.Error("cannot store a downlink; it comes again on the next connect", "kind", d.Kind, "err", err)
				continue
			}
			if !newer {
				continue
			}
			u.stats.downlinks.Add(1)
			u.log.Info("downlink stored", "kind", d.Kind, "version", d.Version)
			if u.cfg.OnDownlink != nil {
				u.cfg.OnDownlink(d)
			}
			u.statusDue.Store(true)
		default:
			return
		}
	}
}

func (u *Uplink) publishStatus(c mqtt.Client) {
	p, err := u.statusPayload(true)
	if err != nil {
		u.log.Error("status message", "err", err)
		return
	}
	// Presence is best effort: not waiting long keeps entries flowing.
	tok := c.Publish(protocol.StatusTopic(u.cfg.Site, u.cfg.Kiosk), 1, true, p)
	if !tok.WaitTimeout(2*time.Second) || tok.Error() != nil {
		u.statusDue.Store(true)
	}
}

// alertsPerRound bounds the alerts sent before the next look at the
// backlog: a storm of alerts (a fever line set too low, a long outage)
// still jumps the queue, but cannot stall acks and batches behind it.
const alertsPerRound = 32

// publishAlerts sends each unacknowledged alert not yet sent, alone, on
// the alerts topic, before any backlog; at most alertsPerRound per call,
// waking the loop again when more remain.
func (u *Uplink) publishAlerts(ctx context.Context, c mqtt.Client, cur *cursor) error {
	alerts, err := u.journal.UnsentAlerts(ctx, max(cur.alertSent, cur.sent), alertsPerRound)
	if err != nil || len(alerts) == 0 {
		return err
	}
	toks := make([]mqtt.Token, 0, len(alerts))
	for _, e := range alerts {
		tok, err := u.publishAsync(c, protocol.AlertsTopic(u.cfg.Site, u.cfg.Kiosk), []protocol.Entry{e})
		if err != nil {
			return err
		}
		toks = append(toks, tok)
	}
	for i, tok := range toks {
		if err := waitToken(tok); err != nil {
			return err
		}
		u.stats.alerts.Add(1)
		cur.alertSent = alerts[i].Seq
	}
	if len(alerts) == alertsPerRound {
		u.poke()
	}
	return nil
}

// publishAhead publishes batches after cur.sent while fewer than
// MaxInFlight batches' worth of entries are unacknowledged. A batch that
// is not full waits up to BatchWait for more entries.
func (u *Uplink) publishAhead(ctx context.Context, c mqtt.Client, cur *cursor) error {
	window := uint64(u.cfg.BatchSize * u.cfg.MaxInFlight)
	var toks []mqtt.Token
	for cur.sent-cur.acked < window {
		limit := min(u.cfg.BatchSize, int(window-(cur.sent-cur.acked)))
		entries, err := u.journal.UnsentEncoded(ctx, cur.sent, limit)
		if err != nil || len(entries) == 0 {
			cur.waiting = time.Time{}
			if err != nil {
				return err
			}
			break
		}
		if len(entries) < u.cfg.BatchSize && u.cfg.BatchWait > 0 && limit == u.cfg.BatchSize {
			if cur.waiting.IsZero() {
				cur.waiting = time.Now()
			}
			if time.Since(cur.waiting) < u.cfg.BatchWait {
				break // the ticker comes back for it
			}
		}
		cur.waiting = time.Time{}
		bodies := make([][]byte, len(entries))
		for i, e := range entries {
			bodies[i] = e.Body
		}
		// The journal's bytes go out as they are: no decode and re-encode.
		payload, err := protocol.EncodeBatchOfEncoded(u.cfg.Kiosk, u.cfg.Site, u.journal.ID(), time.Now(), bodies, u.cfg.GzipAbove)
		if err != nil {
			return fmt.Errorf("encode batch: %w", err)
		}
		toks = append(toks, u.publishPayload(c, protocol.EntriesTopic(u.cfg.Site, u.cfg.Kiosk), payload, len(entries)))
		u.stats.batches.Add(1)
		cur.sent = entries[len(entries)-1].Seq
	}
	// Wait for the PUBACKs of the window together, not one by one. A
	// PUBACK only bounds what is in flight; the hub's ack is what counts.
	for _, tok := range toks {
		if err := waitToken(tok); err != nil {
			return err
		}
	}
	return nil
}

func (u *Uplink) publishAsync(c mqtt.Client, topic string, entries []protocol.Entry) (mqtt.Token, error) {
	payload, err := protocol.EncodeBatchPayload(protocol.Batch{
		Kiosk: u.cfg.Kiosk, Site: u.cfg.Site, Journal: u.journal.ID(), Sent: time.Now(), Entries: entries,
	}, u.cfg.GzipAbove)
	if err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	return u.publishPayload(c, topic, payload, len(entries)), nil
}

func (u *Uplink) publishPayload(c mqtt.Client, topic string, payload []byte, entries int) mqtt.Token {
	if bytes.HasPrefix(payload, []byte(`{"v":1,"encoding":"gzip"`)) {
		u.stats.compressed.Add(1)
	}
	u.stats.entries.Add(uint64(entries))
	return c.Publish(topic, 1, false, payload)
}

func waitToken(tok mqtt.Token) error {
	if !tok.WaitTimeout(10 * time.Second) {
		return errors.New("publish timed out")
	}
	return tok.Error()
}
