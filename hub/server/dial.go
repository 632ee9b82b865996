package server

import (
	"context"
	"net"
	"net/url"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// dialer opens the hub client's TCP connections for paho, with the back-off
// between attempts. Paho's own waits (ConnectRetryInterval, the reconnect
// back-off) are plain time.Sleep calls that Disconnect cannot interrupt, so
// the client sets them to pahoTick and the real waiting happens here, where
// cancelling ctx (on Close) ends a wait or a dial at once.
type dialer struct {
	ctx      context.Context
	timeout  time.Duration // one dial
	min, max time.Duration // back-off bounds

	mu    sync.Mutex
	delay time.Duration // before the next attempt
}

// open is a paho.OpenConnectionFunc.
func (d *dialer) open(uri *url.URL, _ paho.ClientOptions) (net.Conn, error) {
	d.mu.Lock()
	wait := d.delay
	d.delay = min(max(2*d.delay, d.min), d.max)
	d.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-d.ctx.Done():
			return nil, d.ctx.Err()
		case <-t.C:
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
	d.delay = 0
	d.mu.Unlock()
}
