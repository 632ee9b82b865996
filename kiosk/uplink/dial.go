package uplink

import (
	"context"
	"math/rand/v2"
	"net"
	"net/url"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// dialer opens the uplink's TCP connections for paho, waiting before each
// attempt with exponential back-off and full jitter, so a fleet of kiosks
// that lost the hub together does not reconnect in lockstep. Paho's own
// waits are plain sleeps that cancelling cannot end, so they are set to a
// short tick and the real waiting happens here.
type dialer struct {
	ctx      context.Context
	timeout  time.Duration // one dial
	min, max time.Duration // back-off bounds
	attempts func()        // called before each attempt after the first
	// sleep waits d or until ctx ends; nil means a timer. Tests record the
	// waits instead.
	sleep func(ctx context.Context, d time.Duration) error

	mu    sync.Mutex
	delay time.Duration // upper bound of the next wait
}

// open is a paho.OpenConnectionFunc.
func (d *dialer) open(uri *url.URL, _ mqtt.ClientOptions) (net.Conn, error) {
	d.mu.Lock()
	bound := d.delay
	d.delay = min(max(2*d.delay, d.min), d.max)
	d.mu.Unlock()
	if bound > 0 {
		if d.attempts != nil {
			d.attempts()
		}
		// Wait between half the bound and the bound: jittered, and never
		// a reconnect storm of zero waits.
		sleep := d.sleep
		if sleep == nil {
			sleep = timerSleep
		}
		if err := sleep(d.ctx, bound/2+rand.N(bound/2+1)); err != nil {
			return nil, err
		}
	}
	nd := net.Dialer{Timeout: d.timeout}
	return nd.DialContext(d.ctx, "tcp", uri.Host)
}

// reset makes the next attempt immediate once a session is up.
func (d *dialer) reset() {
	d.mu.Lock()
	d.delay = 0
	d.mu.Unlock()
}

func timerSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
