package enrollment

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/gatepost/gatepost/protocol"
)

// Timeout bounds one enrollment: dial, handshake, request and answer.
const Timeout = 30 * time.Second

// maxAnswer bounds the hub's answer (an EnrollAnswer, or an error).
const maxAnswer = 64 << 10

// ErrPin: the server at the code's address did not prove it is the hub
// the code was made at (its certificate does not chain to the pinned CA).
var ErrPin = errors.New("the server is not the hub this code was made at")

// RefusedError is the hub's refusal, with the sentence it gave for a
// person (an expired or used code, another site...).
type RefusedError struct {
	Status   int    // HTTP status
	Sentence string // the hub's words, as it wrote them (control characters removed)
}

func (e *RefusedError) Error() string { return "the hub refused the enrollment: " + e.Sentence }

// Redeem enrolls the kiosk: it sends code's secret to the hub at
// code.Hub, signed with the kiosk's key (protocol.EncodeEnrollRequest),
// over HTTPS that trusts nothing but the CA whose fingerprint the code
// carries, and returns the hub's answer, checked: valid, for this site and
// kiosk, and with that same CA (filled in from the handshake when the hub
// sent none). Nothing is saved: the caller Saves.
func Redeem(ctx context.Context, code protocol.EnrollCode, key ed25519.PrivateKey, site, kiosk string, now time.Time) (protocol.EnrollAnswer, error) {
	host, _, err := net.SplitHostPort(code.Hub)
	if err != nil {
		return protocol.EnrollAnswer{}, fmt.Errorf("enrollment code: %q is not HOST:PORT", code.Hub)
	}
	body, err := protocol.EncodeEnrollRequest(protocol.EnrollRequest{Secret: code.Secret, Site: site, Kiosk: kiosk, Time: now.UTC()}, key)
	if err != nil {
		return protocol.EnrollAnswer{}, fmt.Errorf("enroll request: %w", err)
	}
	p := &pin{fingerprint: code.CA, host: host, now: now}
	client := &http.Client{
		Timeout: Timeout,
		Transport: &http.Transport{
			// Never a proxy: the pin is on the hub's own certificate.
			Proxy:               nil,
			TLSClientConfig:     p.config(),
			TLSHandshakeTimeout: Timeout,
			DisableKeepAlives:   true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+code.Hub+"/enroll", bytes.NewReader(body))
	if err != nil {
		return protocol.EnrollAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, ErrPin) {
			return protocol.EnrollAnswer{}, fmt.Errorf("enroll at %s: %w", code.Hub, p.err())
		}
		return protocol.EnrollAnswer{}, fmt.Errorf("enroll at %s: the hub cannot be reached (check the address and the network): %w", code.Hub, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return protocol.EnrollAnswer{}, fmt.Errorf("enroll at %s: reading the answer: %w", code.Hub, err)
	}
	if len(data) > maxAnswer {
		return protocol.EnrollAnswer{}, fmt.Errorf("enroll at %s: the answer is over %d bytes; this is not a gatepost hub's answer", code.Hub, maxAnswer)
	}
	if resp.StatusCode != http.StatusOK {
		return protocol.EnrollAnswer{}, refusal(resp.StatusCode, data)
	}
	return p.check(data, site, kiosk)
}

// check reads and checks a 200 answer.
func (p *pin) check(data []byte, site, kiosk string) (protocol.EnrollAnswer, error) {
	a, err := Parse(data)
	if err != nil {
		return protocol.EnrollAnswer{}, fmt.Errorf("the hub's answer is not a valid enrollment (%w); nothing was saved", err)
	}
	if a.Site != site || a.Kiosk != kiosk {
		return protocol.EnrollAnswer{}, fmt.Errorf("the hub enrolled %s/%s, but this kiosk is %s/%s; nothing was saved", a.Site, a.Kiosk, site, kiosk)
	}
	if a.CA == "" {
		a.CA = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.ca().Raw}))
	} else if ca, _ := ParseCA(a.CA); Fingerprint(ca) != p.fingerprint {
		return protocol.EnrollAnswer{}, fmt.Errorf("the hub's answer names CA %s, not the %s in the code; nothing was saved", Fingerprint(ca), p.fingerprint)
	}
	return a, nil
}

// refusal turns a 4xx or 5xx answer into the hub's sentence.
func refusal(status int, data []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &e) != nil || strings.TrimSpace(e.Error) == "" {
		return &RefusedError{Status: status, Sentence: fmt.Sprintf("the hub answered %d %s and gave no reason", status, http.StatusText(status))}
	}
	return &RefusedError{Status: status, Sentence: printable(e.Error)}
}

// printable drops control characters: the sentence goes to a terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// pin checks the server's certificate by the code's CA fingerprint and
// remembers why it refused one, or which CA it accepted.
type pin struct {
	fingerprint string
	host        string
	now         time.Time

	mu       sync.Mutex
	why      error
	accepted *x509.Certificate
}

// config does the checking itself (InsecureSkipVerify turns off only the
// system roots' check; VerifyConnection runs in every handshake).
func (p *pin) config() *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection against the pinned CA
		MinVersion:         tls.VersionTLS12,
		ServerName:         p.host,
		VerifyConnection:   p.verify,
	}
}

func (p *pin) verify(cs tls.ConnectionState) error {
	ca, err := Verify(cs.PeerCertificates, p.fingerprint, p.host, p.now)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.why = err
		return ErrPin
	}
	p.accepted = ca
	return nil
}

func (p *pin) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.why
}

func (p *pin) ca() *x509.Certificate {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Verify checks a server's presented chain against a pinned CA: the chain
// must hold a CA certificate whose SHA-256 is fingerprint, and the leaf
// (the first) must verify, for host at now, against that CA alone. It
// returns the CA. Its errors wrap ErrPin and say what was wrong.
func Verify(chain []*x509.Certificate, fingerprint, host string, now time.Time) (*x509.Certificate, error) {
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: it presented no certificate", ErrPin)
	}
	var ca *x509.Certificate
	for _, c := range chain {
		if c.IsCA && Fingerprint(c) == fingerprint {
			ca = c
			break
		}
	}
	if ca == nil {
		return nil, fmt.Errorf("%w: none of its certificates is the CA %s the code pins (is the code from this hub? was `hub tls init` run again since?)", ErrPin, fingerprint)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, DNSName: host, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		return nil, fmt.Errorf("%w: its certificate does not verify against the pinned CA for %s (%v); check the kiosk's clock too", ErrPin, host, err)
	}
	return ca, nil
}
