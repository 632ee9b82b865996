package backoff

import (
	"context"
	"crypto/tls"
	"net"
	"net/url"
	"sync"
	"time"
)

// Dialer opens an MQTT client's TCP connections (the kiosk's uplink, the
// hub's link), waiting the back-off before every attempt but the first
// after a session. Paho's own waits are plain sleeps that cancelling
// cannot end, so clients set them to a short tick and the real waiting
// happens here, where ending Ctx ends a wait or a dial at once. A fleet
// that lost its hub together so retries with jitter, never in lockstep.
type Dialer struct {
	Ctx     context.Context
	Timeout time.Duration // one dial
	Backoff *Backoff
	// TLS, if set, wraps every connection in TLS (tls://, mqtts://,
	// ssl:// brokers) with this configuration; ServerName defaults to
	// the URL's host.
	TLS *tls.Config

	mu   sync.Mutex
	wait bool // an attempt since the last session: back off first
}

// Dial connects to uri's host, after the back-off unless this is the
// first attempt since Reset. Paho clients call it from their
// OpenConnectionFunc.
func (d *Dialer) Dial(uri *url.URL) (net.Conn, error) {
	d.mu.Lock()
	wait := d.wait
	d.wait = true
	d.mu.Unlock()
	if wait {
		if err := d.Backoff.Wait(d.Ctx); err != nil {
			return nil, err
		}
	}
	nd := net.Dialer{Timeout: d.Timeout}
	if d.TLS == nil {
		return nd.DialContext(d.Ctx, "tcp", uri.Host)
	}
	cfg := d.TLS.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = uri.Hostname()
	}
	td := tls.Dialer{NetDialer: &nd, Config: cfg}
	return td.DialContext(d.Ctx, "tcp", uri.Host) // the handshake is inside the timeout
}

// SchemeTLS reports whether an MQTT broker URL's scheme asks for TLS.
func SchemeTLS(scheme string) bool {
	switch scheme {
	case "tls", "mqtts", "ssl":
		return true
	}
	return false
}

// Reset makes the next attempt immediate: call it once a session is up, so
// the back-off grows only across attempts that never got one (a refused
// CONNECT counts as a failure though the dial succeeded).
func (d *Dialer) Reset() {
	d.mu.Lock()
	d.wait = false
	d.mu.Unlock()
	d.Backoff.Reset()
}

// InClear reports whether an MQTT broker URL would carry logins and
// messages in clear text off this machine: plain TCP to a host that is not
// loopback. Plain TCP stays for loopback (the demo, tests, a broker on the
// same machine); elsewhere the programs refuse it unless told otherwise.
func InClear(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || SchemeTLS(u.Scheme) {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}
