package uplink

import (
	"context"
	"net"
	"net/url"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/gatepost/gatepost/internal/backoff"
)

// dialer opens the uplink's TCP connections for paho, waiting before each
// attempt but the first after a session with the one reconnect back-off
// (internal/backoff: exponential, jittered), so a fleet of kiosks that
// lost the hub together does not reconnect in lockstep. Paho's own waits
// are plain sleeps that cancelling cannot end, so they are set to a short
// tick and the real waiting happens here.
type dialer struct {
	ctx     context.Context
	timeout time.Duration // one dial
	backoff *backoff.Backoff

	mu   sync.Mutex
	wait bool // an attempt was made since the last session: back off first
}

// open is a paho.OpenConnectionFunc.
func (d *dialer) open(uri *url.URL, _ mqtt.ClientOptions) (net.Conn, error) {
	d.mu.Lock()
	wait := d.wait
	d.wait = true
	d.mu.Unlock()
	if wait {
		if err := d.backoff.Wait(d.ctx); err != nil {
			return nil, err
		}
	}
	nd := net.Dialer{Timeout: d.timeout}
	return nd.DialContext(d.ctx, "tcp", uri.Host)
}

// reset makes the next attempt immediate once a session is up.
func (d *dialer) reset() {
	d.mu.Lock()
	d.wait = false
	d.mu.Unlock()
	d.backoff.Reset()
}
