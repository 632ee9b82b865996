package broker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/gatepost/gatepost/internal/mochi"
	"github.com/gatepost/gatepost/protocol"
)

// Config says where the broker listens and where it logs.
type Config struct {
	Listen string       // TCP address, e.g. "127.0.0.1:1883"; port 0 picks a free port
	Logger *slog.Logger // nil discards
}

// Broker is a running embedded MQTT broker.
type Broker struct {
	srv       *mqtt.Server
	ln        *mochi.Listener
	closeOnce sync.Once
	closeErr  error
}

// maxPacketBytes bounds an MQTT packet: the largest message the protocol
// allows plus room for the topic and headers.
const maxPacketBytes = protocol.MaxMessageBytes + 64<<10

// Start listens on cfg.Listen and serves MQTT until Close. It returns once
// the port is bound, so a client may connect at once.
func Start(ctx context.Context, cfg Config) (*Broker, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// We bind the listener ourselves and hand it to mochi (listeners.NewNet)
	// rather than giving mochi an address: the bound address, port 0
	// resolved, is then ours to report without reaching into mochi.
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("start broker: %w", err)
	}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = maxPacketBytes
	srv := mqtt.New(&mqtt.Options{
		Logger:       log,
		Capabilities: caps,
	})
	if err := srv.AddHook(accessHook(), nil); err != nil {
		ln.Close()
		return nil, fmt.Errorf("start broker: access hook: %w", err)
	}
	mln := mochi.Listen(ln)
	if err := srv.AddListener(listeners.NewNet("tcp", mln)); err != nil {
		ln.Close()
		return nil, fmt.Errorf("start broker: listener: %w", err)
	}
	if err := srv.Serve(); err != nil {
		srv.Close()
		return nil, fmt.Errorf("start broker: %w", err)
	}
	return &Broker{srv: srv, ln: mln}, nil
}

// Addr returns the address the broker listens on, e.g. "127.0.0.1:41883".
func (b *Broker) Addr() string { return b.ln.Addr().String() }

// URL returns the broker's URL for clients, e.g. "tcp://127.0.0.1:41883".
// A wildcard listen address (":1883", "0.0.0.0:1883") is reported as
// 127.0.0.1, which a client on this machine can dial.
func (b *Broker) URL() string { return "tcp://" + dialAddr(b.ln.Addr()) }

// Close disconnects every client, stops listening and waits for the
// connections to end. It is safe to call more than once.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		if err := mochi.Close(b.srv, b.ln); err != nil { // mochi's own Close can deadlock or panic
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
