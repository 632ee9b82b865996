// Package enroll is the hub's side of kiosk enrollment: the HTTPS
// handler a kiosk's `kiosk enroll CODE` calls (POST /enroll), and the two
// functions that `hub kiosks enroll`, `hub kiosks add` and the console
// share to make a one-time code and an offline enrollment file.
//
// The wire: the kiosk POSTs protocol.EncodeEnrollRequest's bytes (the
// request signed with its own key); the hub answers 200 with a
// protocol.EnrollAnswer in JSON, or a 4xx/5xx with
// {"error": "a sentence a person can act on", "reason": "code"}.
// docs/security.md says why enrollment goes over HTTPS, not MQTT.
//
// enroll imports hub/registry, hub/pki, protocol and internal/clock; the
// hub's commands, hub/server and hub/console import it.
package enroll

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
)

// Path is where the handler answers.
const Path = "/enroll"

// MaxBody is the most the handler reads of a request.
const MaxBody = 64 << 10

// MaxSkew is how far a request's time may be from the hub's clock: a
// captured request cannot be replayed later than this (and its code works
// once anyway).
const MaxSkew = 10 * time.Minute

// Reasons a request is refused, as counted (Config.Refused) and sent in
// the answer's "reason".
const (
	ReasonMethod    = "method"    // not a POST to /enroll
	ReasonLimited   = "limited"   // too many failures from the address
	ReasonTooLarge  = "too_large" // over MaxBody
	ReasonMalformed = "malformed" // not a well-formed enroll request
	ReasonSignature = "signature" // not signed by the key it names
	ReasonClock     = "clock"     // its time is more than MaxSkew from the hub's
	ReasonBadCode   = "bad_code"  // unknown code, or made for another kiosk
	ReasonUsed      = "code_used" // the code was used already
	ReasonExpired   = "expired"   // the code has expired
	ReasonRetired   = "retired"   // the kiosk is retired
	ReasonTaken     = "taken"     // the kiosk belongs to another site
	ReasonStore     = "store"     // the hub could not read or write its registry
	ReasonAnswer    = "answer"    // the hub's own answer would be invalid (its configuration)
)

// Config is what the handler needs.
type Config struct {
	Registry    *registry.Store
	DownlinkKey ed25519.PublicKey // the hub's downlink-signing key, pinned by the kiosk
	CAPEM       []byte            // the hub CA, pinned by the kiosk
	// Broker is the broker URL put in the answer (tls://HOST:8883), given
	// the host the kiosk reached the hub by (no port): the kiosk can
	// reach that name. TLSBroker makes one.
	Broker func(requestHost string) string
	Clock  clock.Clock  // nil for the wall clock
	Logger *slog.Logger // nil discards
	// Refused, when set, is called once per refused request with its
	// reason, for /metrics.
	Refused func(reason string)
	// MaxFailures refused requests per address per minute are allowed
	// before the address gets 429 until the minute is over; 0 is 10.
	MaxFailures int
}

// Handler serves POST /enroll.
type Handler struct {
	cfg   Config
	ca    string
	clock clock.Clock
	log   *slog.Logger
	limit *limiter
}

var _ http.Handler = (*Handler)(nil)

// New checks cfg and returns the handler.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Registry == nil:
		return nil, errors.New("enroll: no Registry")
	case len(cfg.DownlinkKey) != ed25519.PublicKeySize:
		return nil, errors.New("enroll: DownlinkKey is not an Ed25519 public key")
	case cfg.Broker == nil:
		return nil, errors.New("enroll: no Broker")
	}
	if _, err := pki.ParseCert(cfg.CAPEM); err != nil {
		return nil, fmt.Errorf("enroll: CAPEM: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 10
	}
	c := clock.Or(cfg.Clock)
	return &Handler{cfg: cfg, ca: string(cfg.CAPEM), clock: c, log: cfg.Logger,
		limit: newLimiter(c, cfg.MaxFailures, time.Minute)}, nil
}

// TLSBroker is a Config.Broker for a broker on port of the host the
// kiosk reached the hub by, over TLS.
func TLSBroker(port string) func(string) string {
	return func(host string) string { return "tls://" + net.JoinHostPort(host, port) }
}

// refusal is a refused request: what to send and what to log.
type refusal struct {
	status      int
	reason      string
	sentence    string
	site, kiosk string
	err         error // logged, never sent
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ip := clientIP(r)
	if blocked, first := h.limit.blocked(ip); blocked {
		w.Header().Set("Retry-After", "60")
		h.send(w, ip, refusal{status: http.StatusTooManyRequests, reason: ReasonLimited,
			sentence: "too many refused enrollment attempts from this address: wait a minute, then check the code and the kiosk's site and id before trying again"},
			first)
		return
	}
	a, ref := h.enroll(w, r)
	if ref != nil {
		if ref.status < 500 {
			h.limit.fail(ip)
		}
		h.send(w, ip, *ref, true)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(a)
}

// enroll checks the request and redeems its code.
func (h *Handler) enroll(w http.ResponseWriter, r *http.Request) (protocol.EnrollAnswer, *refusal) {
	if r.Method != http.MethodPost || r.URL.Path != Path {
		w.Header().Set("Allow", http.MethodPost)
		return protocol.EnrollAnswer{}, &refusal{status: http.StatusMethodNotAllowed, reason: ReasonMethod,
			sentence: "enrollment is a POST to " + Path + ": run `kiosk enroll --config kiosk.toml CODE` on the kiosk"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return protocol.EnrollAnswer{}, &refusal{status: http.StatusRequestEntityTooLarge, reason: ReasonTooLarge,
			sentence: fmt.Sprintf("the request is over %d KiB: this is not a kiosk's enrollment request", MaxBody>>10)}
	}
	if err != nil {
		return protocol.EnrollAnswer{}, &refusal{status: http.StatusBadRequest, reason: ReasonMalformed,
			sentence: "the request could not be read: try again", err: err}
	}
	req, pub, err := protocol.DecodeEnrollRequest(body)
	if errors.Is(err, protocol.ErrSignature) {
		return protocol.EnrollAnswer{}, &refusal{status: http.StatusUnauthorized, reason: ReasonSignature,
			sentence: "the request is not signed by the key it names: the kiosk's identity.key may be damaged; check it with `kiosk identity`", err: err}
	}
	if err != nil {
		return protocol.EnrollAnswer{}, &refusal{status: http.StatusBadRequest, reason: ReasonMalformed,
			sentence: "this is not a valid enrollment request (" + err.Error() + "): use `kiosk enroll` of the same gatepost version as the hub", err: err}
	}
	ref := &refusal{site: req.Site, kiosk: req.Kiosk}
	now := h.clock.Now()
	if skew := req.Time.Sub(now); skew > MaxSkew || skew < -MaxSkew {
		ref.status, ref.reason = http.StatusBadRequest, ReasonClock
		ref.sentence = fmt.Sprintf("the kiosk's clock says %s, the hub's says %s: more than %v apart. Set the clock that is wrong, then run `kiosk enroll` again (the code is still good)",
			req.Time.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), MaxSkew)
		return protocol.EnrollAnswer{}, ref
	}
	a := protocol.EnrollAnswer{V: protocol.Version, Site: req.Site, Kiosk: req.Kiosk, Broker: h.cfg.Broker(requestHost(r)),
		Username: req.Site + "/" + req.Kiosk, Secret: strings.Repeat("x", 43),
		DownlinkKey: protocol.PublicKeyText(h.cfg.DownlinkKey), CA: h.ca}
	// Checked before the code is spent: a hub misconfigured cannot burn
	// an installer's code.
	if err := a.Validate(); err != nil {
		ref.status, ref.reason, ref.err = http.StatusInternalServerError, ReasonAnswer, err
		ref.sentence = "the hub cannot make a valid answer (see the hub's log); the code is still good"
		return protocol.EnrollAnswer{}, ref
	}
	creds, err := h.cfg.Registry.Redeem(r.Context(), req, pub)
	if err != nil {
		ref.err = err
		ref.status, ref.reason, ref.sentence = redeemRefusal(err)
		return protocol.EnrollAnswer{}, ref
	}
	a.Username, a.Secret = creds.Username, creds.Secret
	h.log.Info("enroll: kiosk enrolled", "site", req.Site, "kiosk", req.Kiosk, "key", protocol.Fingerprint(pub), "remote", clientIP(r))
	return a, nil
}

// redeemRefusal maps the registry's refusal to an answer.
func redeemRefusal(err error) (int, string, string) {
	ask := " Ask the hub's operator for a new code (`hub kiosks enroll`, or the console's fleet page)."
	switch {
	case errors.Is(err, registry.ErrRetired):
		return http.StatusForbidden, ReasonRetired, "this kiosk id is retired and can never enroll again: give the device a new kiosk id in kiosk.toml and ask for a code for that id"
	case errors.Is(err, registry.ErrTaken):
		return http.StatusConflict, ReasonTaken, sentenceOf(err) + "; or ask the hub's operator for a code for a kiosk id of this site"
	case errors.Is(err, registry.ErrCodeUsed):
		return http.StatusForbidden, ReasonUsed, "the code was used already; each code works once." + ask
	case errors.Is(err, registry.ErrCodeExpired):
		return http.StatusForbidden, ReasonExpired, "the code has expired." + ask
	case errors.Is(err, registry.ErrBadCode):
		if s := sentenceOf(err); strings.Contains(s, "made for") {
			return http.StatusForbidden, ReasonBadCode, s
		}
		return http.StatusForbidden, ReasonBadCode, "the hub does not know this code: check that it was copied whole." + ask
	}
	return http.StatusInternalServerError, ReasonStore, "the hub could not store the enrollment; the code is still good: try again in a minute, and if it goes on, tell the hub's operator (the hub's log says why)"
}

// sentenceOf is err's message without the registry's "enroll S/K: "
// prefix.
func sentenceOf(err error) string {
	s := err.Error()
	if _, rest, ok := strings.Cut(s, ": "); ok && strings.HasPrefix(s, "enroll ") {
		return rest
	}
	return s
}

func (h *Handler) send(w http.ResponseWriter, ip string, ref refusal, logIt bool) {
	if h.cfg.Refused != nil {
		h.cfg.Refused(ref.reason)
	}
	if logIt {
		attrs := []any{"reason", ref.reason, "site", ref.site, "kiosk", ref.kiosk, "remote", ip, "status", ref.status}
		if ref.err != nil {
			attrs = append(attrs, "err", ref.err)
		}
		if ref.status >= 500 {
			h.log.Error("enroll: refused", attrs...)
		} else {
			h.log.Warn("enroll: refused", attrs...)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(ref.status)
	json.NewEncoder(w).Encode(map[string]string{"error": ref.sentence, "reason": ref.reason})
}

// requestHost is the host (no port) the client reached us by.
func requestHost(r *http.Request) string {
	host := r.Host
	if r.TLS != nil && r.TLS.ServerName != "" {
		host = r.TLS.ServerName
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.Trim(host, "[]")
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
