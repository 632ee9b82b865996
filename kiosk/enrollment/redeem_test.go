package enrollment

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/kiosk/enrollment/enrollmenttest"
	"github.com/gatepost/gatepost/protocol"
)

func kioskKey() ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed([]byte(strings.Repeat("k", ed25519.SeedSize)))
}

func TestRedeemPinsTheCA(t *testing.T) {
	t.Parallel()
	ca := enrollmenttest.NewCA(t, "hub CA")
	hub := enrollmenttest.StartHub(t, ca.Server(t, nil, "127.0.0.1"), ca)
	a, err := Redeem(t.Context(), hub.Code(ca.Fingerprint()), kioskKey(), "huamu-1", "gate-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if a.Site != "huamu-1" || a.Kiosk != "gate-1" || a.CA != ca.PEM() || a.Username != "huamu-1/gate-1" {
		t.Fatalf("Redeem = %+v", a)
	}
	reqs := hub.Requests()
	if len(reqs) != 1 || reqs[0].PublicKey != protocol.PublicKeyText(kioskKey().Public().(ed25519.PublicKey)) {
		t.Fatalf("the hub received %+v, want one request with the kiosk's key", reqs)
	}
}

// Each server that is not the pinned hub is refused in the handshake:
// nothing is sent to it, and the error says why.
func TestRedeemRefusesAnotherServer(t *testing.T) {
	t.Parallel()
	ca := enrollmenttest.NewCA(t, "hub CA")
	other := enrollmenttest.NewCA(t, "someone else's CA")
	for name, tc := range map[string]struct {
		hub  *enrollmenttest.Hub
		pin  string
		want string
	}{
		// A server with its own CA, presenting it, but the code pins ours.
		"another CA": {enrollmenttest.StartHub(t, other.Server(t, nil, "127.0.0.1"), other), ca.Fingerprint(), "none of its certificates"},
		// Our CA in the chain, but the leaf is signed by another CA.
		"a leaf not signed by the CA": {enrollmenttest.StartHub(t, ca.Server(t, other, "127.0.0.1"), ca), ca.Fingerprint(), "does not verify"},
		// Our CA and a leaf it signed, but for another host.
		"another host": {enrollmenttest.StartHub(t, ca.Server(t, nil, "hub.elsewhere.example"), ca), ca.Fingerprint(), "does not verify"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Redeem(t.Context(), tc.hub.Code(tc.pin), kioskKey(), "huamu-1", "gate-1", time.Now())
			if !errors.Is(err, ErrPin) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Redeem = %v, want ErrPin saying %q", err, tc.want)
			}
			if n := len(tc.hub.Requests()); n != 0 {
				t.Fatalf("the server received %d requests; the kiosk must send nothing to it", n)
			}
		})
	}
}

func TestRedeemChecksTheAnswer(t *testing.T) {
	t.Parallel()
	ca := enrollmenttest.NewCA(t, "hub CA")
	other := enrollmenttest.NewCA(t, "someone else's CA")
	hub := enrollmenttest.StartHub(t, ca.Server(t, nil, "127.0.0.1"), ca)
	answer := func(a protocol.EnrollAnswer) func(protocol.EnrollRequest) (int, []byte) {
		return func(protocol.EnrollRequest) (int, []byte) { b, _ := json.Marshal(a); return http.StatusOK, b }
	}
	for name, tc := range map[string]struct {
		respond func(protocol.EnrollRequest) (int, []byte)
		want    string
	}{
		"refused with a reason": {func(protocol.EnrollRequest) (int, []byte) {
			return http.StatusForbidden, []byte(`{"error":"This code expired at 08:00; make a new one with hub kiosks enroll.\u001b[31m"}`)
		}, "the hub refused the enrollment: This code expired at 08:00; make a new one with hub kiosks enroll."},
		"refused without one": {func(protocol.EnrollRequest) (int, []byte) { return http.StatusBadGateway, []byte("<html>") },
			"502 Bad Gateway and gave no reason"},
		"another kiosk": {answer(enrollmenttest.Answer("huamu-1", "gate-2", "tls://hub:8883", ca)), "enrolled huamu-1/gate-2"},
		"another CA":    {answer(enrollmenttest.Answer("huamu-1", "gate-1", "tls://hub:8883", other)), "not the " + ca.Fingerprint()},
		"invalid":       {answer(protocol.EnrollAnswer{V: protocol.Version, Site: "huamu-1", Kiosk: "gate-1"}), "not a valid enrollment"},
		"oversize": {func(protocol.EnrollRequest) (int, []byte) {
			return http.StatusOK, []byte(strings.Repeat(" ", maxAnswer+1))
		},
			"over 65536 bytes"},
	} {
		t.Run(name, func(t *testing.T) {
			hub.Respond = tc.respond
			_, err := Redeem(t.Context(), hub.Code(ca.Fingerprint()), kioskKey(), "huamu-1", "gate-1", time.Now())
			if err == nil || err.Error() != tc.want && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Redeem = %v, want %q", err, tc.want)
			}
		})
	}
	// No CA in the answer: the one pinned in the handshake is kept.
	hub.Respond = answer(enrollmenttest.Answer("huamu-1", "gate-1", "tls://hub:8883", nil))
	a, err := Redeem(t.Context(), hub.Code(ca.Fingerprint()), kioskKey(), "huamu-1", "gate-1", time.Now())
	if err != nil || a.CA != ca.PEM() {
		t.Fatalf("an answer with no CA: Redeem = %+v, %v; want the pinned CA filled in", a, err)
	}
}

// A hub that never answers is given up after the context's deadline.
func TestRedeemIsBoundInTime(t *testing.T) {
	t.Parallel()
	ca := enrollmenttest.NewCA(t, "hub CA")
	hub := enrollmenttest.StartHub(t, ca.Server(t, nil, "127.0.0.1"), ca)
	release := make(chan struct{})
	defer close(release)
	hub.Respond = func(protocol.EnrollRequest) (int, []byte) { <-release; return 500, nil }
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := Redeem(ctx, hub.Code(ca.Fingerprint()), kioskKey(), "huamu-1", "gate-1", time.Now()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Redeem against a silent hub = %v, want the deadline", err)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	ca := enrollmenttest.NewCA(t, "hub CA")
	cert := ca.Server(t, nil, "hub.huamu.local")
	var chain []*x509.Certificate
	for _, der := range cert.Certificate {
		c, _ := x509.ParseCertificate(der)
		chain = append(chain, c)
	}
	if got, err := Verify(chain, ca.Fingerprint(), "hub.huamu.local", time.Now()); err != nil || got != chain[1] {
		t.Fatalf("Verify = %v, %v", got, err)
	}
	for name, tc := range map[string]struct {
		chain []*x509.Certificate
		host  string
		now   time.Time
	}{
		"no certificate":     {nil, "hub.huamu.local", time.Now()},
		"the CA missing":     {chain[:1], "hub.huamu.local", time.Now()},
		"the CA alone":       {chain[1:], "hub.huamu.local", time.Now()},
		"another host":       {chain, "hub.other", time.Now()},
		"expired":            {chain, "hub.huamu.local", time.Now().Add(48 * time.Hour)},
		"the leaf as the CA": {[]*x509.Certificate{chain[0], chain[0]}, "hub.huamu.local", time.Now()},
	} {
		if _, err := Verify(tc.chain, ca.Fingerprint(), tc.host, tc.now); !errors.Is(err, ErrPin) {
			t.Errorf("Verify(%s) = %v, want ErrPin", name, err)
		}
	}
}
