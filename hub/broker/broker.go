package broker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/gatepost/gatepost/internal/mochi"
	"github.com/gatepost/gatepost/protocol"
)

// Config says where the broker listens, who may use it and where it logs.
type Config struct {
	// Listen is the plain TCP address, e.g. "127.0.0.1:1883" (port 0 picks
	// a free port); empty serves TLS only. The hub refuses a plain
	// address off loopback unless told otherwise (hub/server).
	Listen string
	// TLSListen, with TLS, is the MQTT-over-TLS address, e.g. ":8883".
	TLSListen string
	TLS       *tls.Config
	// Access decides who may connect and use which topics. It is required
	// and the only access hook: mochi admits a client if any hook allows
	// it, so there is no allow-all beside it.
	Access *Closed
	// Hooks are further hooks that observe (counting), never admit.
	Hooks  []mqtt.Hook
	Logger *slog.Logger // nil discards
}

// Broker is a running embedded MQTT broker.
type Broker struct {
	srv       *mqtt.Server
	ln        *mochi.Listener // plain TCP; nil when TLS only
	tlsLn     *mochi.Listener // nil without TLS
	access    *Closed
	oversize  *Oversize
	closeOnce sync.Once
	closeErr  error
}

// maxPacketBytes bounds an MQTT packet: the largest message the protocol
// allows plus room for the topic and headers.
const maxPacketBytes = protocol.MaxMessageBytes + 64<<10

// Start listens on cfg.Listen (and cfg.TLSListen) and serves MQTT until
// Close. It returns once the ports are bound, so a client may connect at
// once.
func Start(ctx context.Context, cfg Config) (_ *Broker, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.Access == nil:
		return nil, errors.New("start broker: no access rule: the broker admits no one without one")
	case cfg.Listen == "" && cfg.TLSListen == "":
		return nil, errors.New("start broker: no address to listen on")
	case cfg.TLSListen != "" && cfg.TLS == nil:
		return nil, errors.New("start broker: a TLS address without certificates: run `hub tls init --name HOST`")
	}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = maxPacketBytes
	srv := mqtt.New(&mqtt.Options{
		Logger:       log,
		Capabilities: caps,
	})
	b := &Broker{srv: srv, access: cfg.Access, oversize: &Oversize{Refused: func(user, id string) {
		log.Warn("a client sent a packet over the broker's size limit and was disconnected", "user", user, "client", id)
	}}}
	var lns []net.Listener
	defer func() {
		if err != nil {
			for _, ln := range lns {
				ln.Close()
			}
		}
	}()
	for _, h := range append([]mqtt.Hook{cfg.Access, b.oversize}, cfg.Hooks...) {
		if err := srv.AddHook(h, nil); err != nil {
			return nil, fmt.Errorf("start broker: hook %s: %w", h.ID(), err)
		}
	}
	// We bind the listeners ourselves and hand them to mochi
	// (listeners.NewNet) rather than giving mochi an address: the bound
	// address, port 0 resolved, is then ours to report.
	listen := func(id, addr string, tlsCfg *tls.Config) (*mochi.Listener, error) {
		ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("start broker: %w", err)
		}
		lns = append(lns, ln)
		if tlsCfg != nil {
			ln = tls.NewListener(ln, tlsCfg)
		}
		mln := mochi.Listen(ln)
		if err := srv.AddListener(listeners.NewNet(id, mln)); err != nil {
			return nil, fmt.Errorf("start broker: listener: %w", err)
		}
		return mln, nil
	}
	if cfg.Listen != "" {
		if b.ln, err = listen("tcp", cfg.Listen, nil); err != nil {
			return nil, err
		}
	}
	if cfg.TLSListen != "" {
		if b.tlsLn, err = listen("tls", cfg.TLSListen, cfg.TLS); err != nil {
			return nil, err
		}
	}
	if err := srv.Serve(); err != nil {
		srv.Close()
		return nil, fmt.Errorf("start broker: %w", err)
	}
	return b, nil
}

// Addr returns the plain address the broker listens on, e.g.
// "127.0.0.1:41883", or "" when it serves TLS only.
func (b *Broker) Addr() string {
	if b.ln == nil {
		return ""
	}
	return b.ln.Addr().String()
}

// URL returns the broker's URL for clients on this machine: the plain
// listener's, e.g. "tcp://127.0.0.1:41883", else the TLS one's
// ("tls://127.0.0.1:8883"). A wildcard listen address (":1883") is
// reported as 127.0.0.1.
func (b *Broker) URL() string {
	if b.ln == nil {
		return b.TLSURL()
	}
	return "tcp://" + dialAddr(b.ln.Addr())
}

// TLSURL returns the TLS listener's URL on this machine, or "".
func (b *Broker) TLSURL() string {
	if b.tlsLn == nil {
		return ""
	}
	return "tls://" + dialAddr(b.tlsLn.Addr())
}

// TLSPort returns the TLS listener's port, or "".
func (b *Broker) TLSPort() string {
	if b.tlsLn == nil {
		return ""
	}
	_, port, _ := net.SplitHostPort(b.tlsLn.Addr().String())
	return port
}

// Cut ends the sessions of the kiosks named (SITE/KIOSK) at once: a
// retired kiosk, or one whose site left transition mode. It returns how
// many sessions it ended.
func (b *Broker) Cut(kiosks map[string]bool) int {
	n := 0
	for _, cl := range b.srv.Clients.GetAll() {
		if id := b.access.identity(cl); id != "" && kiosks[id] && !cl.Closed() {
			cl.Stop(errCut)
			n++
		}
	}
	return n
}

// OversizeCount is how many packets the broker refused as too large.
func (b *Broker) OversizeCount() uint64 { return b.oversize.Count() }

// Connected lists the kiosks (SITE/KIOSK) connected now.
func (b *Broker) Connected() []string {
	var ids []string
	for _, cl := range b.srv.Clients.GetAll() {
		if id := b.access.identity(cl); id != "" && !cl.Closed() {
			ids = append(ids, id)
		}
	}
	return ids
}

var errCut = errors.New("the kiosk was retired, or its transition ended")

// Close disconnects every client, stops listening and waits for the
// connections to end. It is safe to call more than once.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		if err := mochi.Close(b.srv, b.ln, b.tlsLn); err != nil { // mochi's own Close can deadlock or panic
			b.closeErr = fmt.Errorf("close broker: %w", err)
		}
	})
	return b.closeErr
}

// dialAddr returns host:port for dialing addr from this machine: an
// unspecified IP (a wildcard listen, which Go makes dual-stack) becomes
// 127.0.0.1.
func dialAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}
