// Package enrollmenttest makes what the kiosk's enrollment tests need
// without the hub: a private CA with server certificates (made here with
// crypto/x509, as the hub's pki does, since the kiosk may not import the
// hub), answers signed off by it, and a stand-in hub's POST /enroll.
//
// Only tests import it (kiosk/enrollment, kiosk/uplink, kiosk/daemon, the
// kiosk command).
package enrollmenttest

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// CA is a private certificate authority.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// NewCA makes a CA named name.
func NewCA(tb testing.TB, name string) *CA {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return &CA{Cert: c, key: key}
}

// PEM is the CA certificate in PEM.
func (ca *CA) PEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}))
}

// Fingerprint is the CA certificate's SHA-256 in hex (what a code pins).
func (ca *CA) Fingerprint() string {
	sum := sha256.Sum256(ca.Cert.Raw)
	return hex.EncodeToString(sum[:])
}

// Server makes a server certificate for hosts (names or IP addresses),
// signed by signer (nil: ca itself), presented with ca's certificate
// after it, as the hub presents its chain.
func (ca *CA) Server(tb testing.TB, signer *CA, hosts ...string) tls.Certificate {
	tb.Helper()
	if signer == nil {
		signer = ca
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: hosts[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer.Cert, &key.PublicKey, signer.key)
	if err != nil {
		tb.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key}
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n.Add(n, big.NewInt(1))
}

// DownlinkKey is a fixed hub downlink key for tests.
func DownlinkKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed([]byte(strings.Repeat("d", ed25519.SeedSize)))
}

// Answer is a valid answer for site/kiosk at broker, pinning ca (nil: no
// CA) and the downlink key of DownlinkKey.
func Answer(site, kiosk, broker string, ca *CA) protocol.EnrollAnswer {
	a := protocol.EnrollAnswer{V: protocol.Version, Site: site, Kiosk: kiosk, Broker: broker, Username: site + "/" + kiosk,
		Secret:      strings.Repeat("k", 43),
		DownlinkKey: protocol.PublicKeyText(DownlinkKey().Public().(ed25519.PublicKey))}
	if ca != nil {
		a.CA = ca.PEM()
	}
	return a
}

// Hub is a stand-in for the hub's enrollment listener: it checks each
// request (signed by the key it names, with the secret it expects) and
// answers with Answer for the request's site and kiosk, or with Respond
// when set.
type Hub struct {
	*httptest.Server
	Secret string
	Broker string
	// Respond, if set, answers instead (status and body).
	Respond func(r protocol.EnrollRequest) (int, []byte)

	mu       sync.Mutex
	requests []protocol.EnrollRequest
}

// StartHub serves POST /enroll over TLS on loopback with cert, until the
// test ends.
func StartHub(tb testing.TB, cert tls.Certificate, ca *CA) *Hub {
	tb.Helper()
	h := &Hub{Secret: protocol.NewEnrollSecret(), Broker: "tls://127.0.0.1:8883"}
	h.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		req, _, err := protocol.DecodeEnrollRequest(body)
		if r.Method != http.MethodPost || r.URL.Path != "/enroll" || err != nil {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "not an enrollment request"})
			return
		}
		h.mu.Lock()
		h.requests = append(h.requests, req)
		h.mu.Unlock()
		if h.Respond != nil {
			status, b := h.Respond(req)
			w.WriteHeader(status)
			w.Write(b)
			return
		}
		if req.Secret != h.Secret {
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(map[string]string{"error": "This enrollment code is unknown or was used already."})
			return
		}
		json.NewEncoder(w).Encode(Answer(req.Site, req.Kiosk, h.Broker, ca))
	}))
	h.Server.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	h.Server.StartTLS()
	tb.Cleanup(h.Server.Close)
	return h
}

// Code is an enrollment code for this stand-in, pinning pin.
func (h *Hub) Code(pin string) protocol.EnrollCode {
	return protocol.EnrollCode{Hub: h.Listener.Addr().String(), Secret: h.Secret, CA: pin}
}

// Requests are the well-formed requests received.
func (h *Hub) Requests() []protocol.EnrollRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]protocol.EnrollRequest(nil), h.requests...)
}
