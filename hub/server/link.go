package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gatepost/gatepost/protocol"
)

const (
	connectTimeout = 5 * time.Second  // dial plus CONNACK
	tokenTimeout   = 10 * time.Second // any paho token: SUBACK, PUBACK
	quiesce        = 250              // ms Disconnect waits for work in flight
	pahoTick       = 50 * time.Millisecond
	retryMin       = 250 * time.Millisecond
	retryMax       = 30 * time.Second
	inboxSize      = 256
)

// message is one MQTT message on its way to ingest.
type message struct {
	topic   string
	payload []byte
}

// link is the hub's MQTT client: it keeps a session to the broker,
// subscribes to every kiosk's entries and hands each message to inbox.
//
// Paho's default router (OrderMatters) calls handlers one at a time on the
// goroutine that reads from the broker, in arrival order. We keep it, for
// order, and so the handler must never block: a handler that waited on a
// full channel would stall the whole client, keep-alives included, until
// the broker dropped it. So the handler offers the message to a buffered
// channel and drops it when the buffer is full. Dropping is safe because a
// broker's PUBACK is not an ack: only the hub's ack lets a kiosk mark
// entries synced, and a kiosk re-sends what stays unacknowledged.
type link struct {
	id      string // the MQTT client id
	client  paho.Client
	dial    *dialer
	log     *slog.Logger
	inbox   chan message
	alerts  chan message // handled before inbox: alerts jump the queue here too
	dropped atomic.Uint64
	// onSubscribed, if set, runs after every successful subscription (each
	// connect): the server republishes its retained downlinks, which a
	// restarted broker may have lost.
	onSubscribed func(*link)

	ctx    context.Context // cancelled by close
	cancel context.CancelFunc

	subscribed     chan struct{} // closed at the first successful subscription
	subscribedOnce sync.Once

	mu       sync.Mutex
	closing  bool
	handlers sync.WaitGroup // OnConnect handlers still running
}

// newLink creates the client and starts connecting in the background; it
// keeps retrying until close.
func newLink(brokerURL string, log *slog.Logger, onSubscribed func(*link)) (*link, error) {
	id, err := clientID()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &link{
		id:           id,
		dial:         &dialer{ctx: ctx, timeout: connectTimeout, min: retryMin, max: retryMax},
		log:          log.With("client", id, "broker", brokerURL),
		inbox:        make(chan message, inboxSize),
		alerts:       make(chan message, inboxSize),
		ctx:          ctx,
		cancel:       cancel,
		subscribed:   make(chan struct{}),
		onSubscribed: onSubscribed,
	}
	opts := paho.NewClientOptions().
		AddBroker(brokerURL).
		SetClientID(id).
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
		SetCustomOpenConnectionFn(l.dial.open).
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

func clientID() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("client id: %w", err)
	}
	return "gatepost-hub-" + hex.EncodeToString(b[:]), nil
}

// onConnect runs (on its own goroutine, started by paho) after every
// connect and reconnect: with a clean session the broker has forgotten our
// subscription, so make it again, retrying while the connection is up.
func (l *link) onConnect(c paho.Client) {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return
	}
	l.handlers.Add(1)
	l.mu.Unlock()
	defer l.handlers.Done()

	l.dial.reset()
	l.log.Info("connected to the broker")
	delay := retryMin
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
		l.log.Warn("subscribe failed; retrying", "topics", subscriptions, "err", err, "in", delay)
		select {
		case <-l.ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, retryMax)
	}
}

// subscriptions are what the hub listens to: every kiosk's batches,
// alerts and presence.
var subscriptions = []string{protocol.EntriesSubscription, protocol.AlertsSubscription, protocol.StatusSubscription}

func (l *link) subscribe(c paho.Client) error {
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

// onMessage must not block: see link.
func (l *link) onMessage(_ paho.Client, m paho.Message) {
	box := l.inbox
	if strings.HasSuffix(m.Topic(), "/alerts") {
		box = l.alerts
	}
	select {
	case box <- message{topic: m.Topic(), payload: m.Payload()}:
	default:
		n := l.dropped.Add(1)
		l.log.Warn("ingest is behind, batch dropped; the kiosk will send it again",
			"topic", m.Topic(), "dropped_total", n)
	}
}

// publish sends a retained QoS 1 message and waits, bounded, for the PUBACK.
// ingest.Ingest.Publish.
func (l *link) publish(ctx context.Context, topic string, payload []byte) error {
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

// close disconnects and waits for the OnConnect handlers. Cancelling ctx
// first ends any dial or back-off wait, so Disconnect, which waits for a
// connect attempt in progress, returns promptly even when the broker is
// unreachable.
func (l *link) close() {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	l.cancel()
	l.client.Disconnect(quiesce)
	l.handlers.Wait()
}
