package link

import (
	"context"
	"net"
	"net/url"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gatepost/gatepost/internal/backoff"
)

// dialer opens the client's TCP connections for paho, with the back-off
// between attempts. Paho's own waits (ConnectRetryInterval, the reconnect
// back-off) are plain time.Sleep calls that Disconnect cannot interrupt, so
// the client sets them to pahoTick and the real waiting happens here, where
// cancelling ctx (on Close) ends a wait or a dial at once.
type dialer struct {
	ctx     context.Context
	timeout time.Duration // one dial
	backoff *backoff.Backoff

	mu     sync.Mutex
	failed bool // an attempt since the last reset: wait before the next
}

// open is a paho.OpenConnectionFunc. The first attempt after a reset is
// immediate; each later one waits the back-off.
func (d *dialer) open(uri *url.URL, _ paho.ClientOptions) (net.Conn, error) {
	d.mu.Lock()
	wait := d.failed
	d.failed = true
	d.mu.Unlock()
	if wait {
		if err := d.backoff.Wait(d.ctx); err != nil {
			return nil, err
		}
	}
	nd := net.Dialer{Timeout: d.timeout}
	return nd.DialContext(d.ctx, "tcp", uri.Host)
}

// reset makes the next attempt immediate: call it once connected, so the
// back-off grows only across attempts that never got a session (a refused
// CONNECT counts as a failure though the dial succeeded).
func (d *dialer) reset() {
	d.mu.Lock()
	d.failed = false
	d.mu.Unlock()
	d.backoff.Reset()
}
