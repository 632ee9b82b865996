package link

import (
	"cmp"
	"context"
	"crypto/tls"
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
	// holdFor is how long the batches' handler waits for room in a full
	// inbox before it drops the message: well inside paho's keep-alive
	// (30 s, plus 10 s for the PINGRESP), whose replies the connection
	// cannot read while the handler waits, so a store that stalls for
	// longer costs dropped batches (resent by the kiosks), not the session.
	holdFor = 20 * time.Second
)

// IngestSuffix is added to the hub's username for its second connection,
// the one batches and presence arrive on (gatepost-hub-ingest): on a
// broker that takes the username as the client id (Mosquitto's
// use_username_as_clientid) the two connections must not share one.
// `hub broker-config mosquitto` writes an account for it.
const IngestSuffix = "-ingest"

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
	// HoldFor is how long a batch waits for room in a full inbox before it
	// is dropped; 0 means 20 s, negative drops it at once (the queue as it
	// was before back-pressure, for the fleet benchmark's comparison).
	HoldFor time.Duration
	// ClientID is the main connection's MQTT client id; the ingest
	// connection's is ClientID + IngestSuffix. Empty: "gatepost-hub-" and
	// eight random hex digits, new at each start. Replicas give one that
	// names them (the server uses their username, which Mosquitto's
	// use_username_as_clientid makes the client id anyway): two clients
	// with one id take each other's session over, again and again.
	ClientID string
	// ShareGroup, when set, subscribes to the kiosks' messages (batches,
	// presence, alerts) as MQTT shared subscriptions,
	// $share/ShareGroup/FILTER: the broker hands each message to one of
	// the links subscribed with the same group (one per hub replica)
	// instead of to all of them. Acks and downlinks are published as
	// without it. Whether a shared subscription gets the retained
	// messages (the kiosks' presence) when it subscribes depends on the
	// broker: Mosquitto 2.0 sends them, the embedded mochi does not; a
	// kiosk republishes its presence every 20 s anyway.
	ShareGroup string
}

// message is one MQTT message on its way to ingest.
type message struct {
	topic   string
	payload []byte
}

// Link is the hub's MQTT client: it keeps two sessions to the broker,
// subscribes to every kiosk's messages and hands each to Next.
//
// MQTT's flow control is per connection, so the link has two. On the
// ingest connection (batches and presence) a full inbox pushes back: the
// handler waits for room (up to holdFor), paho stops reading, and the
// broker holds the rest (Mosquitto queues them for the hub, up to its
// max_queued_messages), instead of the hub dropping batches the kiosks
// would send again 10 s later. Paho's default router (OrderMatters) calls
// handlers one at a time on the goroutine reading the connection, in
// arrival order, so waiting there is what stops the reading; but that
// goroutine also reads the PUBACKs of the hub's own publishes, so nothing
// is published on the ingest connection. The main connection carries the
// alerts and every publish (acks, downlinks): its handler never waits (it
// drops an alert when the alerts' queue is full), so an alert is read
// while batches are held back, and an ack's PUBACK is read while the
// ingest connection waits for ingest to take a batch.
type Link struct {
	id      string // the MQTT client id of the main connection
	main    *conn  // alerts, and every publish
	ingest  *conn  // batches and presence; its handler waits for room
	log     *slog.Logger
	clock   clock.Clock
	inbox   chan message
	alerts  chan message // handed out before inbox: alerts jump the queue here too
	holdFor time.Duration
	dropped atomic.Uint64
	// droppedAlerts counts, of dropped, the alerts.
	droppedAlerts atomic.Uint64
	// held counts batches the ingest connection waited for room for.
	held atomic.Uint64
	// droppedLogged is when a drop was last logged (unix ns): a line a
	// minute at most, with the count, however many are dropped.
	droppedLogged atomic.Int64
	// gate, if set, is asked about each message before it is queued.
	gate atomic.Pointer[func(topic string) bool]

	onSubscribed func(*Link)

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc

	subscribed chan struct{} // closed once both connections have subscribed
	pending    atomic.Int32  // connections yet to subscribe the first time

	mu       sync.Mutex
	closing  bool
	handlers sync.WaitGroup // OnConnect handlers still running
}

// conn is one of the link's two MQTT connections.
type conn struct {
	name    string // "main" or "ingest", for the log
	client  paho.Client
	dial    *backoff.Dialer
	retry   *backoff.Backoff // between SUBSCRIBE attempts on one connection
	topics  []string
	handler paho.MessageHandler
	log     *slog.Logger
	first   sync.Once // counted in pending at the first subscription
}

// Dial creates the client and starts connecting in the background; it
// keeps retrying until Close.
func Dial(cfg Config) (*Link, error) {
	id := cfg.ClientID
	if id == "" {
		var err error
		if id, err = clientID(); err != nil {
			return nil, err
		}
	} else if strings.ContainsAny(id, "/+#") {
		return nil, fmt.Errorf("client id %q: a '/' marks a kiosk's SITE/KIOSK, and '+' and '#' are wildcards; give the hub's own name", id)
	}
	if cfg.ShareGroup != "" {
		if err := CheckShareGroup(cfg.ShareGroup); err != nil {
			return nil, err
		}
	}
	tlsConfig, err := dialTLS(cfg)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Link{
		id:           id,
		log:          log.With("client", id, "broker", cfg.Broker),
		clock:        clock.Or(cfg.Clock),
		inbox:        make(chan message, inboxSize),
		alerts:       make(chan message, alertsSize),
		holdFor:      cmp.Or(cfg.HoldFor, holdFor),
		ctx:          ctx,
		cancel:       cancel,
		subscribed:   make(chan struct{}),
		onSubscribed: cfg.OnSubscribed,
	}
	l.pending.Store(2)
	share := func(f string) string { return Share(cfg.ShareGroup, f) }
	l.main = l.newConn(cfg, tlsConfig, "main", id, cfg.Username, []string{share(protocol.AlertsSubscription)}, l.onAlert)
	user := cfg.Username
	if user != "" {
		user += IngestSuffix
	}
	l.ingest = l.newConn(cfg, tlsConfig, "ingest", id+IngestSuffix, user,
		[]string{share(protocol.EntriesSubscription), share(protocol.StatusSubscription)}, l.onBatch)
	// With ConnectRetry the connect token completes only once connected (or
	// on Disconnect): nothing to wait for here. onConnect reports progress.
	l.main.client.Connect()
	l.ingest.client.Connect()
	return l, nil
}

func (l *Link) newConn(cfg Config, tlsConfig *tls.Config, name, id, user string, topics []string, h paho.MessageHandler) *conn {
	c := &conn{
		name: name,
		dial: &backoff.Dialer{Ctx: l.ctx, Timeout: connectTimeout, TLS: tlsConfig,
			Backoff: &backoff.Backoff{Min: retryMin, Max: retryMax, Clock: l.clock}},
		retry:   &backoff.Backoff{Min: retryMin, Max: retryMax, Clock: l.clock},
		topics:  topics,
		handler: h,
		log:     l.log.With("connection", name),
	}
	opts := paho.NewClientOptions().
		AddBroker(cfg.Broker).
		SetClientID(id).
		SetUsername(user).
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
		SetCustomOpenConnectionFn(func(uri *url.URL, _ paho.ClientOptions) (net.Conn, error) { return c.dial.Dial(uri) }).
		SetOnConnectHandler(func(pc paho.Client) { l.onConnect(c, pc) }).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			c.log.Warn("connection to the broker lost; reconnecting", "err", err)
		})
	c.client = paho.NewClient(opts)
	return c
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

// ID is the MQTT client id, e.g. "gatepost-hub-1a2b3c4d".
func (l *Link) ID() string { return l.id }

// Connected reports whether both connections are open now.
func (l *Link) Connected() bool {
	return l.main.client.IsConnectionOpen() && l.ingest.client.IsConnectionOpen()
}

// Subscribed is closed once both connections have first subscribed to
// the kiosks' topics.
func (l *Link) Subscribed() <-chan struct{} { return l.subscribed }

// Dropped counts messages dropped because the reader of Next was behind
// and their queue stayed full: alerts whose queue was full, and batches
// that found no room within holdFor (alerts included).
func (l *Link) Dropped() uint64 { return l.dropped.Load() }

// DroppedAlerts counts, of Dropped, the alerts: their queue is apart from
// the batches', so this stays 0 unless the alerts alone outrun ingest.
func (l *Link) DroppedAlerts() uint64 { return l.droppedAlerts.Load() }

// Held counts batches and statuses that found the inbox full and waited
// for room, the broker holding the rest meanwhile (back-pressure).
func (l *Link) Held() uint64 { return l.held.Load() }

// Gate sets a function asked about each message before it is queued
// (ingest's per-kiosk rate limit): false drops the message, which the
// gate has counted. It runs on the goroutines reading from the broker and
// must not block. Messages are queued ungated until Gate is called.
func (l *Link) Gate(allow func(topic string) bool) { l.gate.Store(&allow) }

// onConnect runs (on its own goroutine, started by paho) after every
// connect and reconnect of c: with a clean session the broker has
// forgotten our subscription, so make it again, retrying while the
// connection is up.
func (l *Link) onConnect(c *conn, pc paho.Client) {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return
	}
	l.handlers.Add(1)
	l.mu.Unlock()
	defer l.handlers.Done()

	c.dial.Reset()
	c.retry.Reset()
	c.log.Info("connected to the broker")
	for {
		err := c.subscribe(pc)
		if err == nil {
			c.log.Info("subscribed", "topics", c.topics)
			if c == l.main && l.onSubscribed != nil {
				l.onSubscribed(l)
			}
			c.first.Do(func() {
				if l.pending.Add(-1) == 0 {
					close(l.subscribed)
				}
			})
			return
		}
		if !pc.IsConnectionOpen() {
			return // the next onConnect subscribes
		}
		c.log.Warn("subscribe failed; retrying", "topics", c.topics, "err", err)
		if c.retry.Wait(l.ctx) != nil {
			return
		}
	}
}

func (c *conn) subscribe(pc paho.Client) error {
	filters := map[string]byte{}
	for _, f := range c.topics {
		filters[f] = 1
	}
	tok := pc.SubscribeMultiple(filters, c.handler)
	if !tok.WaitTimeout(tokenTimeout) {
		return fmt.Errorf("no SUBACK within %s", tokenTimeout)
	}
	if err := tok.Error(); err != nil {
		return err
	}
	// MQTT 3.1.1 reports a refused subscription as return code 0x80 in the
	// SUBACK; paho completes the token without an error.
	if st, ok := tok.(*paho.SubscribeToken); ok {
		for _, f := range c.topics {
			if st.Result()[f] == 0x80 {
				return fmt.Errorf("the broker refused the subscription to %s", f)
			}
		}
	}
	return nil
}

// onAlert must not block: the main connection's reader also reads the
// PUBACKs of acks. A full alerts queue drops the alert (the kiosk sends
// it again).
func (l *Link) onAlert(_ paho.Client, m paho.Message) {
	if g := l.gate.Load(); g != nil && !(*g)(m.Topic()) {
		return
	}
	select {
	case l.alerts <- message{topic: m.Topic(), payload: m.Payload()}:
	default:
		l.drop(m.Topic(), true)
	}
}

// onBatch waits for room in the inbox: while it waits, paho reads no
// more from the ingest connection and the broker holds what follows.
func (l *Link) onBatch(_ paho.Client, m paho.Message) {
	if g := l.gate.Load(); g != nil && !(*g)(m.Topic()) {
		return
	}
	msg := message{topic: m.Topic(), payload: m.Payload()}
	select {
	case l.inbox <- msg:
		return
	default:
	}
	if l.holdFor < 0 {
		l.drop(m.Topic(), false)
		return
	}
	l.held.Add(1)
	t := l.clock.NewTimer(l.holdFor)
	defer t.Stop()
	select {
	case l.inbox <- msg:
	case <-l.ctx.Done():
	case <-t.C():
		l.drop(m.Topic(), false)
	}
}

func (l *Link) drop(topic string, alert bool) {
	n := l.dropped.Add(1)
	if alert {
		l.droppedAlerts.Add(1)
	}
	now := l.clock.Now().UnixNano()
	last := l.droppedLogged.Load()
	if (last == 0 || now-last >= int64(dropLogEvery)) && l.droppedLogged.CompareAndSwap(last, now) {
		l.log.Warn("ingest is behind, messages dropped (queue_full); the kiosks will send them again",
			"topic", topic, "dropped_total", n, "alerts_dropped_total", l.droppedAlerts.Load())
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

// NextAlert returns the next alert received, or ok false once ctx ends.
// With NextBatch it lets a reader take alerts on a goroutine of its own,
// one that never waits behind batches.
func (l *Link) NextAlert(ctx context.Context) (topic string, payload []byte, ok bool) {
	select {
	case <-ctx.Done():
		return "", nil, false
	case m := <-l.alerts:
		return m.topic, m.payload, true
	}
}

// NextBatch returns the next batch or presence message received, or ok
// false once ctx ends.
func (l *Link) NextBatch(ctx context.Context) (topic string, payload []byte, ok bool) {
	select {
	case <-ctx.Done():
		return "", nil, false
	case m := <-l.inbox:
		return m.topic, m.payload, true
	}
}

// Close disconnects both connections and waits for the OnConnect
// handlers; a batch handler waiting for room gives up. Cancelling ctx
// first ends any dial or back-off wait, so Disconnect, which waits for a
// connect attempt in progress, returns promptly even when the broker is
// unreachable.
func (l *Link) Close() {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	l.cancel()
	l.ingest.client.Disconnect(quiesce)
	l.main.client.Disconnect(quiesce)
	l.handlers.Wait()
}
