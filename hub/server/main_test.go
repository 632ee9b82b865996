package server

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/goleak"

	"github.com/gatepost/gatepost/protocol"
)

// TestMain fails on leaked goroutines, except paho's own: when the hub
// closes while its client is between a lost connection and a new CONNACK
// (the embedded broker stopping), paho's reconnect waits on a socket it
// owns and Disconnect waits for that attempt; neither can be reached from
// outside paho, and both end with the process (seen rarely under load).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/eclipse/paho%2emqtt%2egolang.(*client).reconnect"),
		goleak.IgnoreAnyFunction("github.com/eclipse/paho%2emqtt%2egolang.(*client).Disconnect.func1"),
	)
}

// deadline bounds every wait in these tests.
const deadline = 10 * time.Second

var t0 = time.Date(2026, 2, 1, 8, 30, 0, 0, time.UTC)

const site, kiosk = "huamu-1", "gate-1"

// testLogger writes the hub's log to the test's log.
func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) { w.tb.Log(string(p)); return len(p), nil }

func open(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = tb.TempDir()
	}
	if cfg.MQTTListen == "" {
		cfg.MQTTListen = "127.0.0.1:0"
	}
	if cfg.HTTPListen == "" {
		cfg.HTTPListen = "127.0.0.1:0"
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(tb)
	}
	s, err := Open(tb.Context(), cfg)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// kioskClient is a plain paho client playing a kiosk: it publishes batches
// and collects the acks it receives.
type kioskClient struct {
	c    paho.Client
	acks chan received
}

type received struct {
	ack      protocol.Ack
	retained bool
}

// asKiosk enrolls the test kiosk (site/kiosk) in the hub's registry, as an
// installer's offline `hub kiosks add` does, with a new key, and returns
// client options logged in as it, under the client id the broker
// requires (its username). A later call re-enrolls it: a new secret, and
// its connection takes over the earlier one's session.
func asKiosk(tb testing.TB, s *Server, brokerURL string) *paho.ClientOptions {
	tb.Helper()
	creds, err := s.access.registry.Add(tb.Context(), site, kiosk, kioskPriv.Public().(ed25519.PublicKey))
	if err != nil {
		tb.Fatal(err)
	}
	return paho.NewClientOptions().AddBroker(brokerURL).SetClientID(creds.Username).
		SetUsername(creds.Username).SetPassword(creds.Secret).SetAutoReconnect(false).SetConnectTimeout(deadline)
}

// asHub returns client options logged in with the hub's own account, which
// may read every kiosk's topics: a test's observer.
func asHub(tb testing.TB, s *Server, brokerURL, id string) *paho.ClientOptions {
	return paho.NewClientOptions().AddBroker(brokerURL).SetClientID("gatepost-hub-test-" + id).
		SetUsername(s.access.hubUser).SetPassword(s.access.hubPass).SetAutoReconnect(false).SetConnectTimeout(deadline)
}

func newKiosk(tb testing.TB, s *Server, brokerURL string) *kioskClient {
	tb.Helper()
	k := &kioskClient{acks: make(chan received, 16)}
	id := kiosk
	k.c = paho.NewClient(asKiosk(tb, s, brokerURL))
	tok := k.c.Connect()
	if !tok.WaitTimeout(deadline) || tok.Error() != nil {
		tb.Fatalf("kiosk %s connect to %s: timed out or %v", id, brokerURL, tok.Error())
	}
	tb.Cleanup(func() { k.c.Disconnect(250) })
	tok = k.c.Subscribe(protocol.AckTopic(site, kiosk), 1, func(_ paho.Client, m paho.Message) {
		a, err := protocol.DecodeAck(m.Payload())
		if err != nil {
			tb.Errorf("ack %s does not decode: %v", m.Payload(), err)
			return
		}
		k.acks <- received{a, m.Retained()}
	})
	if !tok.WaitTimeout(deadline) || tok.Error() != nil {
		tb.Fatalf("kiosk %s subscribe: timed out or %v", id, tok.Error())
	}
	return k
}

func (k *kioskClient) publish(tb testing.TB, payload []byte) {
	tb.Helper()
	tok := k.c.Publish(protocol.EntriesTopic(site, kiosk), 1, false, payload)
	if !tok.WaitTimeout(deadline) || tok.Error() != nil {
		tb.Fatalf("kiosk publish: timed out or %v", tok.Error())
	}
}

func (k *kioskClient) nextAck(tb testing.TB) received {
	tb.Helper()
	select {
	case r := <-k.acks:
		return r
	case <-time.After(deadline):
		tb.Fatalf("no ack within %s", deadline)
		return received{}
	}
}

// kioskPriv is the test kiosk's key: asKiosk enrolls it, batch signs
// with it.
var kioskPriv = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

// batch encodes entries 1..n from the test kiosk, signed with its key.
func batch(tb testing.TB, n uint64) []byte {
	tb.Helper()
	b := protocol.Batch{Kiosk: kiosk, Site: site, Sent: t0.Add(time.Hour)}
	for seq := uint64(1); seq <= n; seq++ {
		b.Entries = append(b.Entries, protocol.Entry{
			Kiosk: kiosk, Seq: seq,
			ID:       fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", seq),
			Time:     t0.Add(time.Duration(seq) * time.Minute),
			Kind:     protocol.KindCheck,
			Scan:     fmt.Sprintf("GP1:resident:e2e-%d", seq),
			Decision: protocol.DecisionAllow,
			Reasons:  []string{"temperature_normal"},
			Temperature: &protocol.Reading{
				ObjectC: 36.5, ScreenedC: 36.5,
			},
		})
	}
	if err := protocol.SignBatch(kioskPriv, &b); err != nil {
		tb.Fatal(err)
	}
	data, err := protocol.EncodeBatch(b)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func httpGet(tb testing.TB, url string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), deadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s = %d %s (%v)", url, resp.StatusCode, body, err)
	}
	return string(body)
}

func httpGetJSON(tb testing.TB, url string, v any) {
	tb.Helper()
	if err := json.Unmarshal([]byte(httpGet(tb, url)), v); err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
}
