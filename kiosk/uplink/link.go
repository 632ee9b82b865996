package uplink

import (
	"context"
	"crypto/tls"
	"net"
	"net/url"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/gatepost/gatepost/internal/backoff"
	"github.com/gatepost/gatepost/protocol"
)

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
		SetClientID(u.clientID()).
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
	if uri, err := url.Parse(u.cfg.Broker); err == nil && (uri.Scheme == "tcp" || uri.Scheme == "mqtt" || backoff.SchemeTLS(uri.Scheme)) {
		// Our dialer does the back-off, with jitter; paho's waits are a tick.
		d := &backoff.Dialer{Ctx: dialCtx, Timeout: 10 * time.Second,
			Backoff: &backoff.Backoff{Min: u.cfg.BackoffMin, Max: u.cfg.BackoffMax, Clock: u.clock}}
		if backoff.SchemeTLS(uri.Scheme) {
			d.TLS = u.cfg.TLS
			if d.TLS == nil {
				d.TLS = &tls.Config{MinVersion: tls.VersionTLS12} // the system's roots
			}
		}
		o.SetCustomOpenConnectionFn(func(uri *url.URL, _ mqtt.ClientOptions) (net.Conn, error) { return d.Dial(uri) }).
			SetConnectRetryInterval(50 * time.Millisecond).
			SetMaxReconnectInterval(50 * time.Millisecond)
		o.SetOnConnectHandler(func(c mqtt.Client) { d.Reset(); u.onConnect(c) })
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
		st.Time = u.clock.Now()
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
		d, ok := u.openDownlink(m.Topic(), m.Payload())
		if !ok {
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
	u.noteLow(a)
	switch {
	case a.Journal == "": // a hub from before journal ids
		u.hubAck = a.Contiguous // the latest: a forged high one must not stick (applyAck)
	case a.Journal != u.named.Journal || a.Contiguous >= u.named.Contiguous:
		// Which journal it names is judged by the send loop, which owns
		// the journal (a rebase changes our id).
		u.named = a
	}
	u.mu.Unlock()
	u.poke()
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

// statusEvery republishes presence, so the hub's view of the unsynced
// count stays fresh. It is shorter than the broker's keep-alive grace (1.5
// x 15 s): after a cut the broker may publish the old connection's will
// ("offline") after the new connection said online, and the next
// republish corrects it within this bound.
const statusEvery = 20 * time.Second

// clientID is the MQTT client id: the enrolled kiosk's username, or for a
// kiosk not enrolled one made unique by the session.
func (u *Uplink) clientID() string {
	if u.cfg.ClientID != "" {
		return u.cfg.ClientID
	}
	return "gatepost-kiosk-" + u.cfg.Kiosk + "-" + u.session
}
