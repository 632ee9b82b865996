package link

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gatepost/gatepost/internal/backoff"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
)

const (
	connectTimeout = 5 * time.Second  // dial plus CONNACK
	tokenTimeout   = 10 * time.Second // any paho token: SUBACK, PUBACK
	quiesce        = 250              // ms Disconnect waits for work in flight
	pahoTick       = 50 * time.Millisecond
	retryMin       = 250 * time.Millisecond
	retryMax       = 30 * time.Second
	inboxSize      = 256  // batches and statuses waiting for ingest
	alertsSize     = 1024 // alerts waiting for ingest, apart: a flood of batches cannot fill it
	dropLogEvery   = time.Minute
)

// Config is what a Link needs. Broker is required.
type Config struct {
	// Broker is the broker's URL: tcp:// or mqtt:// for plain TCP,
	// tls://, mqtts:// or ssl:// for TLS, e.g. tls://mq.example:8883.
	Broker string
	// Username and Password are the hub's broker login (its own account,
	// hub/datadir's BrokerLogin); empty connects anonymously, which only
	// an open test broker admits. The password is never logged.
	Username, Password string
	// TLS configures the connection to a tls://, mqtts:// or ssl://
	// broker, e.g. to trust the CA in --broker-ca alone; nil trusts the
	// system's roots. Setting it with a plain tcp:// broker is an error:
	// the hub would send its password in clear thinking it was not.
	TLS    *tls.Config
	Logger *slog.Logger // nil discards
	Clock  clock.Clock  // the back-off waits on it; nil is the wall clock
	// OnSubscribed, if set, runs after every successful subscription (each
	// connect), before Subscribed is closed the first time: the hub
	// republishes its retained downlinks, which a restarted broker may have
	// lost. It gets the Link because it may run before Dial returns.
	OnSubscribed func(*Link)
}

// message is one MQTT message on its way to ingest.
type message struct {
	topic   string
	payload []byte
}

// Link is the hub's MQTT client: it keeps a session to the broker,
// subscribes to every kiosk's entries and hands each message to Next.
//
// Paho's default router (OrderMatters) calls handlers one at a time on the
// goroutine that reads from the broker, in arrival order. We keep it, for
// order, and so the handler must never block: a handler that waited on a
// full channel would stall the whole client, keep-alives included, until
// the broker dropped it. So the handler offers the message to a buffered
// channel and drops it when the buffer is full. Dropping is safe because a
// broker's PUBACK is not an ack: only the hub's ack lets a kiosk mark
// entries synced, and a kiosk re-sends what stays unacknowledged.
type Link struct {
	id      string // the MQTT client id
	client  paho.Client
	dial    *backoff.Dialer
	retry   *backoff.Backoff // between SUBSCRIBE attempts on one connection
	log     *slog.Logger
	clock   clock.Clock
	inbox   chan message
	alerts  chan message // handed out before inbox: alerts jump the queue here too
	dropped atomic.Uint64
	// droppedAlerts counts, of dropped, the alerts.
	droppedAlerts atomic.Uint64
	// droppedLogged is when a drop was last logged (unix ns): a line a
	// minute at most, with the count, however many are dropped.
	droppedLogged atomic.Int64
	// gate, if set, is asked about each message before it is queued.
	gate atomic.Pointer[func(topic string) bool]

	onSubscribed func(*Link)

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc

	subscribed     chan struct{} // closed at the first successful subscription
	subscribedOnce sync.Once

	mu       sync.Mutex
	closing  bool
	handlers sync.WaitGroup // OnConnect handlers still running
}

// Dial creates the client and starts connecting in the background; it
// keeps retrying until Close.
func Dial(cfg Config) (*Link, error) {
	id, err := clientID()
	if err != nil {
		return nil, err
	}
	tlsConfig, err := dialTLS(cfg)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clk := clock.Or(cfg.Clock)
	ctx, cancel := context.WithCancel(context.Background())
	l := &Link{
		id: id,
		dial: &backoff.Dialer{Ctx: ctx, Timeout: connectTimeout, TLS: tlsConfig,
			Backoff: &backoff.Backoff{Min: retryMin, Max: retryMax, Clock: clk}},
		retry:        &backoff.Backoff{Min: retryMin, Max: retryMax, Clock: clk},
		log:          log.With("client", id, "broker", cfg.Broker),
		clock:        clk,
		inbox:        make(chan message, inboxSize),
		alerts:       make(chan message, alertsSize),
		ctx:          ctx,
		cancel:       cancel,
		subscribed:   make(chan struct{}),
		onSubscribed: cfg.OnSubscribed,
	}
	opts := paho.NewClientOptions().
		AddBroker(cfg.Broker).
		SetClientID(id).
		SetUsername(cfg.Username).
		SetPassword(cfg.Password).
		// A clean session: the subscription is made again in onConnect, and
		// what the broker queued while we were away is not needed since
		// kiosks re-send anything unacknowledged.
		SetCleanSession(true).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(pahoTick).
		SetMaxReconnectInterval(pahoTick).
		SetConnectTimeout(connectTimeout).
		SetWriteTimeout(tokenTimeout).
		SetOrderMatters(true).
		SetCustomOpenConnectionFn(func(uri *url.URL, _ paho.ClientOptions) (net.Conn, error) { return l.dial.Dial(uri) }).
		SetOnConnectHandler(l.onConnect).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			l.log.Warn("connection to the broker lost; reconnecting", "err", err)
		})
	l.client = paho.NewClient(opts)
	// With ConnectRetry the connect token completes only once connected (or
	// on Disconnect): nothing to wait for here. onConnect reports progress.
	l.client.Connect()
	return l, nil
}

// dialTLS is the TLS configuration the dialer wraps connections in: nil
// for a plain broker URL, cfg.TLS (or the system's roots) for a TLS one.
func dialTLS(cfg Config) (*tls.Config, error) {
	u, err := url.Parse(cfg.Broker)
	if err != nil {
		return nil, fmt.Errorf("broker URL %q: %w", cfg.Broker, err)
	}
	switch {
	case backoff.SchemeTLS(u.Scheme) && cfg.TLS != nil:
		return cfg.TLS, nil
	case backoff.SchemeTLS(u.Scheme):
		return &tls.Config{MinVersion: tls.VersionTLS12}, nil
	case cfg.TLS != nil:
		return nil, fmt.Errorf("broker URL %q is plain TCP but a TLS configuration was given: use tls://HOST:PORT", cfg.Broker)
	}
	return nil, nil
}

// clientID is unique per process, so that hub replicas sharing one broker
// never take over each other's session, and has no '/', which only a
// kiosk's SITE/KIOSK identity has.
func clientID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("client id: %w", err)
	}
	return "gatepost-hub-" + hex.EncodeToString(b[:]), nil
}

// ID is the MQTT client id, e.g. "gatepost-hub-1a2b3c4d".
func (l *Link) ID() string { return l.id }

// Connected reports whether the client is connected now.
func (l *Link) Connected() bool { return l.client.IsConnectionOpen() }

// Subscribed is closed once the client has first subscribed to the
// kiosks' topics.
func (l *Link) Subscribed() <-chan struct{} { return l.subscribed }

// Dropped counts messages dropped because the reader of Next was behind
// and their queue was full (alerts included).
func (l *Link) Dropped() uint64 { return l.dropped.Load() }

// DroppedAlerts counts, of Dropped, the alerts: their queue is apart from
// the batches', so this stays 0 unless the alerts alone outrun ingest.
func (l *Link) DroppedAlerts() uint64 { return l.droppedAlerts.Load() }

// Gate sets a function asked about each message before it is queued
// (ingest's per-kiosk rate limit): false drops the message, which the
// gate has counted. It runs on the goroutine reading from the broker and
// must not block. Messages are queued ungated until Gate is called.
func (l *Link) Gate(allow func(topic string) bool) { l.gate.Store(&allow) }

// onConnect runs (on its own goroutine, started by paho) after every
// connect and reconnect: with a clean session the broker has forgotten our
// subscription, so make it again, retrying while the connection is up.
func (l *Link) onConnect(c paho.Client) {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return
	}
	l.handlers.Add(1)
	l.mu.Unlock()
	defer l.handlers.Done()

	l.dial.Reset()
	l.retry.Reset()
	l.log.Info("connected to the broker")
	for {
		err := l.subscribe(c)
		if err == nil {
			l.log.Info("subscribed", "topics", subscriptions)
			if l.onSubscribed != nil {
				l.onSubscribed(l)
			}
			l.subscribedOnce.Do(func() { close(l.subscribed) })
			return
		}
		if !c.IsConnectionOpen() {
			return // the next onConnect subscribes
		}
		l.log.Warn("subscribe failed; retrying", "topics", subscriptions, "err", err)
		if l.retry.Wait(l.ctx) != nil {
			return
		}
	}
}

// subscriptions are what the hub listens to: every kiosk's batches,
// alerts and presence.
var subscriptions = []string{protocol.EntriesSubscription, protocol.AlertsSubscription, protocol.StatusSubscription}

func (l *Link) subscribe(c paho.Client) error {
	filters := map[string]byte{}
	for _, f := range subscriptions {
		filters[f] = 1
	}
	tok := c.SubscribeMultiple(filters, l.onMessage)
	if !tok.WaitTimeout(tokenTimeout) {
		return fmt.Errorf("no SUBACK within %s", tokenTimeout)
	}
	if err := tok.Error(); err != nil {
		return err
	}
	// MQTT 3.1.1 reports a refused subscription as return code 0x80 in the
	// SUBACK; paho completes the token without an error.
	if st, ok := tok.(*paho.SubscribeToken); ok {
		for _, f := range subscriptions {
			if st.Result()[f] == 0x80 {
				return fmt.Errorf("the broker refused the subscription to %s", f)
			}
		}
	}
	return nil
}

// onMessage must not block: see Link.
func (l *Link) onMessage(_ paho.Client, m paho.Message) {
	if g := l.gate.Load(); g != nil && !(*g)(m.Topic()) {
		return
	}
	box, alert := l.inbox, strings.HasSuffix(m.Topic(), "/alerts")
	if alert {
		box = l.alerts
	}
	select {
	case box <- message{topic: m.Topic(), payload: m.Payload()}:
	default:
		n := l.dropped.Add(1)
		if alert {
			l.droppedAlerts.Add(1)
		}
		now := l.clock.Now().UnixNano()
		last := l.droppedLogged.Load()
		if (last == 0 || now-last >= int64(dropLogEvery)) && l.droppedLogged.CompareAndSwap(last, now) {
			l.log.Warn("ingest is behind, messages dropped (queue_full); the kiosks will send them again",
				"topic", m.Topic(), "dropped_total", n, "alerts_dropped_total", l.droppedAlerts.Load())
		}
	}
}

// Next returns the next message received, an alert waiting before any
// other, or ok false once ctx ends. Call it from one goroutine, so
// messages are handled in the order they arrived.
func (l *Link) Next(ctx context.Context) (topic string, payload []byte, ok bool) {
	var m message
	select {
	case m = <-l.alerts:
	default:
		select {
		case <-ctx.Done():
			return "", nil, false
		case m = <-l.alerts:
		case m = <-l.inbox:
		}
	}
	return m.topic, m.payload, true
}

// Publish sends a retained QoS 1 message and waits, bounded, for the PUBACK.
func (l *Link) Publish(ctx context.Context, topic string, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tok := l.client.Publish(topic, 1, true, payload)
	if !tok.WaitTimeout(tokenTimeout) {
		return fmt.Errorf("publish %s: no PUBACK within %s", topic, tokenTimeout)
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}

// Close disconnects and waits for the OnConnect handlers. Cancelling ctx
// first ends any dial or back-off wait, so Disconnect, which waits for a
// connect attempt in progress, returns promptly even when the broker is
// unreachable.
func (l *Link) Close() {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	l.cancel()
	l.client.Disconnect(quiesce)
	l.handlers.Wait()
}
