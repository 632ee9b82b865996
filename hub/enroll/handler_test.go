package enroll

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/protocol"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var tStart = time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)

// env is a hub's enrollment listener over real HTTPS on loopback, with a
// real CA and a real registry file.
type env struct {
	reg      *registry.Store
	tls      *pki.Files
	clock    *clock.Fake
	downlink ed25519.PublicKey
	srv      *httptest.Server
	log      *bytes.Buffer
	mu       sync.Mutex
	refused  map[string]int
}

func newEnv(t *testing.T, maxFailures int) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{clock: clock.NewFake(tStart), log: &bytes.Buffer{}, refused: map[string]int{}}
	var err error
	if e.tls, err = pki.Init(dir, pki.Options{Names: []string{"hub.test", "127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	if e.reg, err = registry.OpenFile(t.Context(), filepath.Join(dir, registry.FileName), e.clock); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.reg.Close() })
	e.downlink = key(200).Public().(ed25519.PublicKey)
	h, err := New(Config{Registry: e.reg, DownlinkKey: e.downlink, CAPEM: e.tls.CAPEM(), Broker: TLSBroker(DefaultBrokerPort),
		Clock: e.clock, MaxFailures: maxFailures, Logger: slog.New(slog.NewTextHandler(syncWriter{&e.mu, e.log}, nil)),
		Refused: func(reason string) { e.mu.Lock(); e.refused[reason]++; e.mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(Path, h)
	e.srv = httptest.NewUnstartedServer(mux)
	e.srv.TLS = e.tls.ServerConfig()
	e.srv.StartTLS()
	t.Cleanup(e.srv.Close)
	return e
}

type syncWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (s syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func (e *env) logLines(what string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Count(e.log.String(), what)
}

func key(seed byte) ed25519.PrivateKey {
	b := make([]byte, ed25519.SeedSize)
	b[0] = seed
	return ed25519.NewKeyFromSeed(b)
}

func (e *env) code(t *testing.T, site, kiosk string, ttl time.Duration) protocol.EnrollCode {
	t.Helper()
	c, expires, err := NewCode(t.Context(), e.reg, e.tls, e.srv.Listener.Addr().String(), site, kiosk, ttl)
	if err != nil {
		t.Fatal(err)
	}
	if !expires.Equal(e.clock.Now().Add(ttl)) {
		t.Fatalf("NewCode expires %v, want %v", expires, e.clock.Now().Add(ttl))
	}
	// What a kiosk reads: the printed code parses back.
	if back, err := protocol.ParseEnrollCode(c.String()); err != nil || back != c {
		t.Fatalf("ParseEnrollCode(%q) = %+v, %v", c, back, err)
	}
	return c
}

// pinned is a client that trusts what a kiosk trusts: the CA whose
// fingerprint the code carries, found in the chain the hub sends, and a
// server certificate it signed for the code's host.
func pinned(c protocol.EnrollCode) *http.Client {
	host := c.Hub[:strings.LastIndex(c.Hub, ":")]
	cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, // verified below, by the pin
		VerifyConnection: func(cs tls.ConnectionState) error {
			for _, cert := range cs.PeerCertificates {
				sum := sha256.Sum256(cert.Raw)
				if hex.EncodeToString(sum[:]) != c.CA {
					continue
				}
				roots := x509.NewCertPool()
				roots.AddCert(cert)
				_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, DNSName: host})
				return err
			}
			return errors.New("no certificate in the chain has the pinned fingerprint")
		}}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
}

type reply struct {
	status int
	answer protocol.EnrollAnswer
	err    struct{ Error, Reason string }
}

func post(t *testing.T, c protocol.EnrollCode, body []byte) reply {
	t.Helper()
	client := pinned(c)
	defer client.CloseIdleConnections()
	resp, err := client.Post("https://"+c.Hub+Path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r reply
	r.status = resp.StatusCode
	data, _ := io.ReadAll(resp.Body)
	if r.status == http.StatusOK {
		err = json.Unmarshal(data, &r.answer)
	} else {
		err = json.Unmarshal(data, &r.err)
	}
	if err != nil {
		t.Fatalf("POST %s = %d %q: %v", Path, r.status, data, err)
	}
	return r
}

func (e *env) request(t *testing.T, c protocol.EnrollCode, site, kiosk string, k ed25519.PrivateKey, at time.Time) []byte {
	t.Helper()
	b, err := protocol.EncodeEnrollRequest(protocol.EnrollRequest{Secret: c.Secret, Site: site, Kiosk: kiosk, Time: at}, k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEnrollOverPinnedHTTPS(t *testing.T) {
	e := newEnv(t, 100)
	ctx := t.Context()
	c := e.code(t, "huamu-1", "gate-1", 24*time.Hour)
	k := key(1)
	body := e.request(t, c, "huamu-1", "gate-1", k, e.clock.Now().Add(-time.Minute))
	r := post(t, c, body)
	if r.status != http.StatusOK {
		t.Fatalf("enroll = %d %+v, want 200", r.status, r.err)
	}
	a := r.answer
	if err := a.Validate(); err != nil || a.Site != "huamu-1" || a.Kiosk != "gate-1" || a.Broker != "tls://127.0.0.1:8883" ||
		a.DownlinkKey != protocol.PublicKeyText(e.downlink) || a.CA != string(e.tls.CAPEM()) {
		t.Fatalf("answer = %+v (%v)", a, err)
	}
	if got, ok := e.reg.Authenticate(ctx, a.Username, a.Secret); !ok || got.Kiosk != "gate-1" {
		t.Fatalf("the answer's login does not authenticate: %+v %v", got, ok)
	}
	if kk, _ := e.reg.Get(ctx, "gate-1"); kk.State != registry.Enrolled || !kk.PublicKey.Equal(k.Public().(ed25519.PublicKey)) {
		t.Fatalf("registry after enroll = %+v", kk)
	}
	if r := post(t, c, body); r.status != http.StatusForbidden || r.err.Reason != ReasonUsed || !strings.Contains(r.err.Error, "used already") {
		t.Fatalf("the same code again = %d %+v, want 403 code_used", r.status, r.err)
	}

	// A name from the certificate is the broker's host: the kiosk reached
	// the hub by it.
	byName := e.code(t, "huamu-1", "gate-9", time.Hour)
	addr := byName.Hub
	byName.Hub = strings.Replace(byName.Hub, "127.0.0.1", "hub.test", 1) // as printed with --hub hub.test:PORT
	client := pinned(byName)
	client.Transport.(*http.Transport).TLSClientConfig.ServerName = "hub.test" // as if hub.test resolved to the listener
	resp, err := client.Post("https://"+addr+Path, "application/json",
		bytes.NewReader(e.request(t, byName, "huamu-1", "gate-9", key(9), e.clock.Now())))
	if err != nil {
		t.Fatal(err)
	}
	var byNameAnswer protocol.EnrollAnswer
	json.NewDecoder(resp.Body).Decode(&byNameAnswer)
	resp.Body.Close()
	client.CloseIdleConnections()
	if resp.StatusCode != http.StatusOK || byNameAnswer.Broker != "tls://hub.test:8883" {
		t.Errorf("enroll by name = %d, broker %q; want 200, tls://hub.test:8883", resp.StatusCode, byNameAnswer.Broker)
	}

	refusals := []struct {
		name           string
		body           func() (protocol.EnrollCode, []byte)
		status         int
		reason, saying string
	}{
		{"expired", func() (protocol.EnrollCode, []byte) {
			c := e.code(t, "huamu-1", "gate-2", time.Minute)
			e.clock.Advance(2 * time.Minute)
			return c, e.request(t, c, "huamu-1", "gate-2", key(2), e.clock.Now())
		}, http.StatusForbidden, ReasonExpired, "expired"},
		{"another site", func() (protocol.EnrollCode, []byte) {
			c := e.code(t, "huamu-1", "gate-3", time.Hour)
			return c, e.request(t, c, "huamu-2", "gate-3", key(3), e.clock.Now())
		}, http.StatusConflict, ReasonTaken, "belongs to site huamu-1"},
		{"another kiosk", func() (protocol.EnrollCode, []byte) {
			c := e.code(t, "huamu-1", "gate-3", time.Hour)
			return c, e.request(t, c, "huamu-1", "gate-33", key(3), e.clock.Now())
		}, http.StatusForbidden, ReasonBadCode, "made for huamu-1/gate-3"},
		{"unknown code", func() (protocol.EnrollCode, []byte) {
			c := e.code(t, "huamu-1", "gate-3", time.Hour)
			c.Secret = protocol.NewEnrollSecret()
			return c, e.request(t, c, "huamu-1", "gate-3", key(3), e.clock.Now())
		}, http.StatusForbidden, ReasonBadCode, "does not know this code"},
		{"retired", func() (protocol.EnrollCode, []byte) {
			c := e.code(t, "huamu-1", "gate-4", time.Hour)
			if err := e.reg.Retire(ctx, "gate-4"); err != nil {
				t.Fatal(err)
			}
			return c, e.request(t, c, "huamu-1", "gate-4", key(4), e.clock.Now())
		}, http.StatusForbidden, ReasonRetired, "retired"},
		{"bad signature", func() (protocol.EnrollCode, []byte) {
			c := e.code(t, "huamu-1", "gate-5", time.Hour)
			var env protocol.Signed
			json.Unmarshal(e.request(t, c, "huamu-1", "gate-5", key(5), e.clock.Now()), &env)
			env.Body = bytes.Replace(env.Body, []byte("gate-5"), []byte("gate-6"), 1)
			b, _ := json.Marshal(env)
			return c, b
		}, http.StatusUnauthorized, ReasonSignature, "not signed by the key"},
		{"stale time", func() (protocol.EnrollCode, []byte) {
			c := e.code(t, "huamu-1", "gate-7", time.Hour)
			return c, e.request(t, c, "huamu-1", "gate-7", key(7), e.clock.Now().Add(-MaxSkew-time.Second))
		}, http.StatusBadRequest, ReasonClock, "Set the clock"},
		{"future time", func() (protocol.EnrollCode, []byte) {
			c := e.code(t, "huamu-1", "gate-7", time.Hour)
			return c, e.request(t, c, "huamu-1", "gate-7", key(7), e.clock.Now().Add(MaxSkew+time.Second))
		}, http.StatusBadRequest, ReasonClock, "more than 10m0s apart"},
		{"oversize", func() (protocol.EnrollCode, []byte) {
			return e.code(t, "huamu-1", "gate-8", time.Hour), bytes.Repeat([]byte(" "), MaxBody+1)
		}, http.StatusRequestEntityTooLarge, ReasonTooLarge, "over 64 KiB"},
		{"not a request", func() (protocol.EnrollCode, []byte) {
			return e.code(t, "huamu-1", "gate-8", time.Hour), []byte(`{"purpose":"enroll"}`)
		}, http.StatusBadRequest, ReasonMalformed, "not a valid enrollment request"},
	}
	for i, tc := range refusals {
		c, body := tc.body()
		r := post(t, c, body)
		if r.status != tc.status || r.err.Reason != tc.reason || !strings.Contains(r.err.Error, tc.saying) {
			t.Errorf("%s: %d %+v, want %d %s saying %q", tc.name, r.status, r.err, tc.status, tc.reason, tc.saying)
		}
		if n := e.logLines("enroll: refused"); n != i+2 { // +1 for the second use above
			t.Errorf("%s: %d refusal log lines, want %d (one per refusal)", tc.name, n, i+2)
		}
	}
	if e.refused[ReasonClock] != 2 || e.refused[ReasonUsed] != 1 || e.refused[ReasonSignature] != 1 {
		t.Errorf("counted refusals = %v", e.refused)
	}
	if strings.Contains(e.log.String(), c.Secret) {
		t.Error("an enrollment secret was logged")
	}

	// A stale request spent nothing: the same code works with a good clock.
	c7 := e.code(t, "huamu-1", "gate-7", time.Hour)
	if r := post(t, c7, e.request(t, c7, "huamu-1", "gate-7", key(7), e.clock.Now().Add(-time.Hour))); r.err.Reason != ReasonClock {
		t.Fatalf("stale = %+v", r.err)
	}
	if r := post(t, c7, e.request(t, c7, "huamu-1", "gate-7", key(7), e.clock.Now())); r.status != http.StatusOK {
		t.Fatalf("the code after a stale request = %d %+v, want 200", r.status, r.err)
	}

	client = pinned(c)
	resp, err = client.Get("https://" + c.Hub + Path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	client.CloseIdleConnections()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET %s = %d, want 405", Path, resp.StatusCode)
	}
}

// A kiosk pinning another CA's fingerprint never sends its request.
func TestAKioskPinningAnotherCARefusesTheHub(t *testing.T) {
	e := newEnv(t, 0)
	c := e.code(t, "huamu-1", "gate-1", time.Hour)
	c.CA = strings.Repeat("ab", 32)
	client := pinned(c)
	defer client.CloseIdleConnections()
	_, err := client.Post("https://"+c.Hub+Path, "application/json", bytes.NewReader(e.request(t, c, "huamu-1", "gate-1", key(1), e.clock.Now())))
	if err == nil || !strings.Contains(err.Error(), "pinned fingerprint") {
		t.Fatalf("POST to a hub with another CA = %v, want the pin to refuse it", err)
	}
	if k, _ := e.reg.Get(t.Context(), "gate-1"); k.State != registry.Pending {
		t.Fatalf("kiosk after a refused handshake = %s, want pending", k.State)
	}
}

func TestFailuresAreRateLimitedPerAddress(t *testing.T) {
	e := newEnv(t, 0) // the default, 10 a minute
	c := e.code(t, "huamu-1", "gate-1", time.Hour)
	wrong := c
	wrong.Secret = protocol.NewEnrollSecret()
	for i := range 10 {
		if r := post(t, wrong, e.request(t, wrong, "huamu-1", "gate-1", key(1), e.clock.Now())); r.status != http.StatusForbidden {
			t.Fatalf("failure %d = %d, want 403", i+1, r.status)
		}
	}
	for range 5 {
		// Even the right code: the address is blocked for the minute.
		if r := post(t, c, e.request(t, c, "huamu-1", "gate-1", key(1), e.clock.Now())); r.status != http.StatusTooManyRequests ||
			r.err.Reason != ReasonLimited || !strings.Contains(r.err.Error, "wait a minute") {
			t.Fatalf("after 10 failures = %d %+v, want 429", r.status, r.err)
		}
	}
	if n := e.logLines("reason=limited"); n != 1 {
		t.Errorf("%d log lines for the blocked address, want 1", n)
	}
	if e.refused[ReasonLimited] != 5 {
		t.Errorf("counted %d limited, want 5", e.refused[ReasonLimited])
	}
	e.clock.Advance(time.Minute)
	if r := post(t, c, e.request(t, c, "huamu-1", "gate-1", key(1), e.clock.Now())); r.status != http.StatusOK {
		t.Fatalf("a minute later = %d %+v, want 200", r.status, r.err)
	}
}

func TestNewCodeChecksTheHubAddress(t *testing.T) {
	e := newEnv(t, 0)
	ctx := t.Context()
	for _, tc := range []struct{ hub, want string }{
		{"evil.example:8443", "certificate is for hub.test, 127.0.0.1"},
		{"hub.test", "HOST:PORT"},
	} {
		if _, _, err := NewCode(ctx, e.reg, e.tls, tc.hub, "huamu-1", "gate-1", time.Hour); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewCode(--hub %s) = %v, want %q", tc.hub, err, tc.want)
		}
	}
	c, _, err := NewCode(ctx, e.reg, e.tls, "", "huamu-1", "gate-1", time.Hour)
	if err != nil || c.Hub != "hub.test:8443" || c.CA != pki.Fingerprint(e.tls.CA) {
		t.Fatalf("NewCode with the default address = %+v, %v", c, err)
	}
	if _, _, err := NewCode(ctx, e.reg, nil, "", "huamu-1", "gate-1", time.Hour); !errors.Is(err, ErrNoTLS) {
		t.Fatalf("NewCode without TLS = %v, want ErrNoTLS", err)
	}
	if ks, _ := e.reg.List(ctx); len(ks) != 1 {
		t.Fatalf("refused codes registered kiosks: %+v", ks)
	}
}

func TestAddOfflineSealsToTheKioskAndChecksFirst(t *testing.T) {
	e := newEnv(t, 0)
	ctx := t.Context()
	k := key(1)
	pub := k.Public().(ed25519.PublicKey)
	file, err := AddOffline(ctx, e.reg, e.downlink, e.tls, "huamu-1", "gate-1", pub, "")
	if err != nil {
		t.Fatal(err)
	}
	a, err := protocol.OpenEnrollFile(file, k)
	if err != nil || a.Broker != "tls://hub.test:8883" || a.CA != string(e.tls.CAPEM()) || a.DownlinkKey != protocol.PublicKeyText(e.downlink) {
		t.Fatalf("opened file = %+v, %v", a, err)
	}
	if _, ok := e.reg.Authenticate(ctx, a.Username, a.Secret); !ok {
		t.Fatal("the file's login does not authenticate")
	}
	if _, err := protocol.OpenEnrollFile(file, key(2)); !errors.Is(err, protocol.ErrNotForThisKiosk) {
		t.Fatalf("another kiosk opening the file = %v", err)
	}
	// Refused before anything is stored.
	for name, f := range map[string]func() error{
		"bad broker": func() error {
			_, err := AddOffline(ctx, e.reg, e.downlink, e.tls, "huamu-1", "gate-2", pub, "http://x")
			return err
		},
		"plain broker off the hub's machine": func() error {
			_, err := AddOffline(ctx, e.reg, e.downlink, e.tls, "huamu-1", "gate-2", pub, "tcp://10.0.0.5:1883")
			return err
		},
		"tls broker, no CA": func() error {
			_, err := AddOffline(ctx, e.reg, e.downlink, nil, "huamu-1", "gate-2", pub, "tls://x:8883")
			return err
		},
		"bad site": func() error {
			_, err := AddOffline(ctx, e.reg, e.downlink, e.tls, "huamu 1", "gate-2", pub, "")
			return err
		},
	} {
		if err := f(); err == nil {
			t.Errorf("AddOffline with %s = nil", name)
		}
	}
	if _, err := e.reg.Get(ctx, "gate-2"); !errors.Is(err, registry.ErrUnknown) {
		t.Fatalf("a refused AddOffline registered gate-2: %v", err)
	}
	file, err = AddOffline(ctx, e.reg, e.downlink, nil, "huamu-1", "gate-2", pub, "")
	if err != nil {
		t.Fatal(err)
	}
	if a, err := protocol.OpenEnrollFile(file, k); err != nil || a.Broker != LoopbackBroker || a.CA != "" {
		t.Fatalf("file without TLS = %+v, %v", a, err)
	}
}

// FuzzHandler: whatever the body, the handler neither panics nor fails
// with a 5xx, and answers 200 only to a real request with a real code.
func FuzzHandler(f *testing.F) {
	dir := f.TempDir()
	files, err := pki.Init(dir, pki.Options{Names: []string{"127.0.0.1"}})
	if err != nil {
		f.Fatal(err)
	}
	c := clock.NewFake(tStart)
	reg, err := registry.OpenFile(context.Background(), filepath.Join(dir, registry.FileName), c)
	if err != nil {
		f.Fatal(err)
	}
	defer reg.Close()
	h, err := New(Config{Registry: reg, DownlinkKey: key(200).Public().(ed25519.PublicKey), CAPEM: files.CAPEM(),
		Broker: TLSBroker("8883"), Clock: c, MaxFailures: 1 << 30})
	if err != nil {
		f.Fatal(err)
	}
	good, _ := protocol.EncodeEnrollRequest(protocol.EnrollRequest{Secret: protocol.NewEnrollSecret(), Site: "s", Kiosk: "k", Time: tStart}, key(1))
	for _, seed := range [][]byte{good, nil, []byte("{}"), []byte(`{"purpose":"enroll","key":"x","sig":"y","body":{"v":1}}`),
		[]byte(`[`), bytes.Repeat([]byte("a"), 100)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(body)))
		if w.Code == http.StatusOK || w.Code >= 500 {
			t.Fatalf("body %q: %d %s", body, w.Code, w.Body)
		}
		var e struct{ Error, Reason string }
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" || e.Reason == "" {
			t.Fatalf("body %q: answer %q is not an error sentence and reason", body, w.Body)
		}
	})
}

// Kiosks racing with one code: exactly one is enrolled.
func TestOneCodeEnrollsOnceUnderRace(t *testing.T) {
	e := newEnv(t, 100)
	c := e.code(t, "huamu-1", "gate-1", time.Hour)
	const n = 8
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		body := e.request(t, c, "huamu-1", "gate-1", key(byte(i+1)), e.clock.Now())
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := pinned(c)
			defer client.CloseIdleConnections()
			resp, err := client.Post("https://"+c.Hub+Path, "application/json", bytes.NewReader(body))
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[http.StatusOK] != 1 || count[http.StatusForbidden] != n-1 {
		t.Fatalf("statuses of %d racing kiosks = %v, want one 200 and the rest 403", n, count)
	}
}
