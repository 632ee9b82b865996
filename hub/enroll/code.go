package enroll

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/internal/backoff"
	"github.com/gatepost/gatepost/protocol"
)

// The ports a hub listens on by default: HTTPS enrollment and MQTT over
// TLS; MQTT in the clear is for loopback.
const (
	DefaultPort       = "8443"
	DefaultBrokerPort = "8883"
	LoopbackBroker    = "tcp://127.0.0.1:1883"
)

// ErrNoTLS is returned when a code is asked for before `hub tls init`:
// a code carries the CA's fingerprint, and the answer comes over HTTPS.
var ErrNoTLS = errors.New("the hub has no TLS certificate yet: run `hub tls init --name HOST` (HOST: the name or address kiosks reach the hub by), then make the code")

// DefaultHub is the enrollment address a code names unless told
// otherwise: the server certificate's first name, port DefaultPort.
func DefaultHub(f *pki.Files) string {
	return net.JoinHostPort(f.Names()[0], DefaultPort)
}

// DefaultBroker is the broker URL an offline file names unless told
// otherwise: MQTT over TLS on the certificate's first name, or loopback
// in the clear on a hub without TLS.
func DefaultBroker(f *pki.Files) string {
	if f == nil {
		return LoopbackBroker
	}
	return "tls://" + net.JoinHostPort(f.Names()[0], DefaultBrokerPort)
}

// NewCode makes a one-time enrollment code for kiosk at site, valid for
// ttl, naming hubAddr (HOST:PORT of the enrollment listener; "" is
// DefaultHub) and the CA's fingerprint. The CLI and the console both call
// it. HOST must be one the server certificate is for, or the kiosk could
// not check the hub.
func NewCode(ctx context.Context, reg *registry.Store, tlsFiles *pki.Files, hubAddr, site, kiosk string, ttl time.Duration) (protocol.EnrollCode, time.Time, error) {
	if tlsFiles == nil {
		return protocol.EnrollCode{}, time.Time{}, ErrNoTLS
	}
	if hubAddr == "" {
		hubAddr = DefaultHub(tlsFiles)
	}
	host, port, err := net.SplitHostPort(hubAddr)
	if err != nil || host == "" || port == "" {
		return protocol.EnrollCode{}, time.Time{}, fmt.Errorf("--hub %q: give HOST:PORT of the hub's enrollment listener (default port %s)", hubAddr, DefaultPort)
	}
	if err := tlsFiles.Leaf.VerifyHostname(host); err != nil {
		return protocol.EnrollCode{}, time.Time{}, fmt.Errorf("the hub's certificate is for %s, not %q: give one of those as --hub, or add the name with `hub tls renew --name %s --name …`",
			strings.Join(tlsFiles.Names(), ", "), host, host)
	}
	secret, expires, err := reg.NewCode(ctx, site, kiosk, ttl)
	if err != nil {
		return protocol.EnrollCode{}, time.Time{}, err
	}
	return protocol.EnrollCode{Hub: hubAddr, Secret: secret, CA: pki.Fingerprint(tlsFiles.CA)}, expires, nil
}

// AddOffline enrolls kiosk at site by its public key (what `kiosk
// identity` printed), with no code and no link, and returns the
// enrollment file for the installer to carry back: the answer the kiosk
// would have received, sealed to its key. broker "" is DefaultBroker;
// tlsFiles may be nil on a hub without TLS (the answer then carries no
// CA, and only a tcp:// broker will do). Everything is checked before the
// kiosk is enrolled.
func AddOffline(ctx context.Context, reg *registry.Store, downlink ed25519.PublicKey, tlsFiles *pki.Files,
	site, kiosk string, pub ed25519.PublicKey, broker string) ([]byte, error) {
	if broker == "" {
		broker = DefaultBroker(tlsFiles)
	}
	if backoff.InClear(broker) {
		return nil, fmt.Errorf("broker %s is plain MQTT off the hub's machine: the kiosk's login and every visitor's name would cross the network in clear text; give a tls:// broker (run `hub tls init` for the embedded one)", broker)
	}
	a := protocol.EnrollAnswer{V: protocol.Version, Site: site, Kiosk: kiosk, Broker: broker, Username: site + "/" + kiosk,
		Secret: strings.Repeat("x", 43), DownlinkKey: protocol.PublicKeyText(downlink)}
	if tlsFiles != nil {
		a.CA = string(tlsFiles.CAPEM())
	} else if !strings.HasPrefix(broker, "tcp://") {
		return nil, fmt.Errorf("--broker %s needs the hub's CA for the kiosk to pin: run `hub tls init --name HOST` first, or use a tcp:// broker on loopback", broker)
	}
	// A trial seal checks the answer and the key before anything is
	// stored: a wrong --broker or key must not enroll the kiosk.
	if _, err := protocol.SealEnrollAnswer(a, pub); err != nil {
		return nil, fmt.Errorf("enrollment file for %s/%s: %w", site, kiosk, err)
	}
	creds, err := reg.Add(ctx, site, kiosk, pub)
	if err != nil {
		return nil, err
	}
	a.Username, a.Secret = creds.Username, creds.Secret
	return protocol.SealEnrollAnswer(a, pub)
}
