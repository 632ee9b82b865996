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
// Only the kiosk's packages import uplink.
package uplink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/gatepost/gatepost/protocol"
	"github.com/google/uuid"
)

// Journal is what the uplink needs of the kiosk's journal.
type Journal interface {
	Unsent(ctx context.Context, after uint64, limit int) ([]protocol.Entry, error)
	Acked(ctx context.Context) (uint64, error)
	Ack(ctx context.Context, contiguous uint64, at time.Time) (bool, error)
}

// Config is the link's settings.
type Config struct {
	Broker      string // tcp://host:port
	Username    string
	Password    string
	Site, Kiosk string
	BatchSize   int           // entries per batch
	MaxInFlight int           // batches sent ahead of the last ack
	AckTimeout  time.Duration // no ack progress for this long: resend from the last ack
	// OnChange, if set, is called (from the uplink's goroutine, so it must
	// not block for long) whenever the link goes up or down or an ack
	// moves the synced position.
	OnChange func()
}

// Uplink is the kiosk's link to the hub.
type Uplink struct {
	cfg     Config
	journal Journal
	log     *slog.Logger

	online  atomic.Bool
	wake    chan struct{} // new entry, ack, or connection change
	mu      sync.Mutex
	hubAck  uint64 // highest ack received and not yet applied
	epoch   uint64 // bumped on each connect: sending restarts from the ack
	lastAck atomic.Int64
}

// New returns an uplink; Run starts it.
func New(cfg Config, j Journal, log *slog.Logger) *Uplink {
	return &Uplink{cfg: cfg, journal: j, log: log, wake: make(chan struct{}, 1)}
}

// Online reports whether the MQTT connection is up.
func (u *Uplink) Online() bool { return u.online.Load() }

// Notify tells the uplink a new entry is in the journal.
func (u *Uplink) Notify() { u.poke() }

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
	client := mqtt.NewClient(u.options())
	// With ConnectRetry the token completes only when connected or on
	// Disconnect; nothing waits on it.
	client.Connect()
	defer func() {
		client.Disconnect(250)
		u.online.Store(false)
	}()
	return u.send(ctx, client)
}

func (u *Uplink) options() *mqtt.ClientOptions {
	o := mqtt.NewClientOptions().
		AddBroker(u.cfg.Broker).
		SetClientID("gatepost-kiosk-" + u.cfg.Kiosk + "-" + uuid.NewString()[:8]).
		SetUsername(u.cfg.Username).
		SetPassword(u.cfg.Password).
		SetCleanSession(true). // the journal is the store of record, not paho's
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(30 * time.Second).
		SetConnectTimeout(10 * time.Second).
		SetKeepAlive(15 * time.Second).
		SetOrderMatters(false)
	o.SetOnConnectHandler(u.onConnect)
	o.SetConnectionLostHandler(func(_ mqtt.Client, err error) {
		u.online.Store(false)
		u.log.Warn("hub link lost", "err", err)
		u.poke()
		u.changed()
	})
	return o
}

func (u *Uplink) onConnect(c mqtt.Client) {
	topic := protocol.AckTopic(u.cfg.Site, u.cfg.Kiosk)
	tok := c.Subscribe(topic, 1, u.onAck)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		u.log.Warn("subscribe to acks failed; reconnecting", "topic", topic, "err", tok.Error())
		// Without acks nothing can be marked synced: drop the connection
		// so auto-reconnect tries again from scratch.
		go c.Disconnect(0)
		return
	}
	u.mu.Lock()
	u.epoch++
	u.mu.Unlock()
	u.online.Store(true)
	u.log.Info("hub link up", "broker", u.cfg.Broker)
	u.poke()
	u.changed()
}

// onAck runs on paho's goroutine: it must not block, so it only records
// the highest ack and wakes the sender.
func (u *Uplink) onAck(_ mqtt.Client, m mqtt.Message) {
	a, err := protocol.DecodeAck(m.Payload())
	if err != nil {
		u.log.Warn("ignoring bad ack from hub", "topic", m.Topic(), "err", err)
		return
	}
	if a.Kiosk != u.cfg.Kiosk {
		u.log.Warn("ignoring ack for another kiosk", "topic", m.Topic(), "kiosk", a.Kiosk)
		return
	}
	u.mu.Lock()
	if a.Contiguous > u.hubAck {
		u.hubAck = a.Contiguous
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

// send is the single loop that reads the journal and publishes batches.
func (u *Uplink) send(ctx context.Context, c mqtt.Client) error {
	acked, err := u.journal.Acked(ctx)
	if err != nil {
		return fmt.Errorf("uplink: %w", err)
	}
	sent := acked // highest sequence published since the last rewind
	var epoch uint64
	progress := time.Now()
	tick := time.NewTicker(u.cfg.AckTimeout / 4)
	defer tick.Stop()
	for {
		// Apply any ack the hub sent.
		u.mu.Lock()
		hubAck, curEpoch := u.hubAck, u.epoch
		u.mu.Unlock()
		if hubAck > acked {
			changed, err := u.journal.Ack(ctx, hubAck, time.Now())
			switch {
			case err != nil:
				u.log.Error("cannot record the hub's ack", "ack", hubAck, "err", err)
			case changed:
				acked = hubAck
				progress = time.Now()
				u.lastAck.Store(progress.UnixNano())
				u.changed()
			}
		}
		if curEpoch != epoch { // a new connection: replay from the ack
			epoch, sent, progress = curEpoch, acked, time.Now()
		}
		if sent < acked {
			sent = acked
		}
		if sent > acked && time.Since(progress) > u.cfg.AckTimeout {
			u.log.Warn("no ack from the hub in time; resending", "from", acked+1, "sent", sent)
			sent, progress = acked, time.Now()
		}
		if u.online.Load() {
			if sent == acked {
				progress = time.Now() // nothing outstanding: time the next window from now
			}
			if err := u.publishAhead(ctx, c, acked, &sent); err != nil && ctx.Err() == nil {
				u.log.Warn("publish failed; will retry", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-u.wake:
		case <-tick.C:
		}
	}
}

// publishAhead publishes batches after *sent while fewer than MaxInFlight
// batches' worth of entries are unacknowledged.
func (u *Uplink) publishAhead(ctx context.Context, c mqtt.Client, acked uint64, sent *uint64) error {
	window := uint64(u.cfg.BatchSize * u.cfg.MaxInFlight)
	for *sent-acked < window {
		limit := min(u.cfg.BatchSize, int(window-(*sent-acked)))
		entries, err := u.journal.Unsent(ctx, *sent, limit)
		if err != nil || len(entries) == 0 {
			return err
		}
		payload, err := protocol.EncodeBatch(protocol.Batch{
			Kiosk: u.cfg.Kiosk, Site: u.cfg.Site, Sent: time.Now(), Entries: entries,
		})
		if err != nil {
			return fmt.Errorf("encode batch: %w", err)
		}
		tok := c.Publish(protocol.EntriesTopic(u.cfg.Site, u.cfg.Kiosk), 1, false, payload)
		if !tok.WaitTimeout(10 * time.Second) {
			return errors.New("publish timed out")
		}
		if err := tok.Error(); err != nil {
			return err
		}
		*sent = entries[len(entries)-1].Seq
	}
	return nil
}
