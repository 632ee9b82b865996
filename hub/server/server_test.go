package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/broker"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/testkit"
)

// One batch goes kiosk -> MQTT -> hub store and comes back as a retained
// ack; the same batch again changes nothing and is acked the same.
func TestBatchStoredOnceAndAcked(t *testing.T) {
	s := open(t, Config{})
	if !strings.HasPrefix(s.BrokerURL(), "tcp://127.0.0.1:") || !strings.HasPrefix(s.ConsoleURL(), "http://127.0.0.1:") {
		t.Fatalf("BrokerURL = %q, ConsoleURL = %q", s.BrokerURL(), s.ConsoleURL())
	}
	const n = 3
	k := newKiosk(t, s, s.BrokerURL())
	k.publish(t, batch(t, n))
	if got := k.nextAck(t); got.ack.Kiosk != kiosk || got.ack.Contiguous != n {
		t.Fatalf("ack = %+v, want kiosk %s contiguous %d", got.ack, kiosk, n)
	}

	// A kiosk that connects later (a restart) gets the ack at once: retained.
	late := newKiosk(t, s, s.BrokerURL()) // takes over k's session, as a restarted kiosk does
	if got := late.nextAck(t); !got.retained || got.ack.Contiguous != n {
		t.Errorf("late subscriber got %+v, want the retained ack with contiguous %d", got, n)
	}

	// The console's summary shows the entries to a signed-in user only
	// (hub/console's tests render it); unsigned, it is the sign-in form.
	page := httpGet(t, s.ConsoleURL())
	if !strings.Contains(page, `name="password"`) || strings.Contains(page, "GP1:resident:e2e-1") {
		t.Errorf("console page without signing in = %.300q, want the sign-in form and no entries", page)
	}

	// The same batch again: same ack, no new rows.
	late.publish(t, batch(t, n))
	if got := late.nextAck(t); got.ack.Contiguous != n {
		t.Errorf("ack of the re-sent batch = %+v, want contiguous %d", got.ack, n)
	}
	entries, err := s.store.Entries(t.Context(), records.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != n {
		t.Errorf("hub holds %d entries after the batch was sent twice, want %d", len(entries), n)
	}
	kiosks, err := s.store.Kiosks(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(kiosks) != 1 || kiosks[0].Contiguous != n || kiosks[0].Batches != 2 {
		t.Errorf("kiosks = %+v, want %s contiguous %d after 2 batches", kiosks, kiosk, n)
	}
	if st := s.ingest.Stats(); st.Inserted != n || st.Duplicates != n {
		t.Errorf("ingest stats = %+v, want %d inserted, %d duplicates", st, n, n)
	}
	// The entries hold personal data: the console's JSON needs a session.
	for _, path := range []string{"ops/api/entries", "ops/api/kiosks"} {
		resp, err := http.Get(s.ConsoleURL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /%s without signing in = %s, want 401", path, resp.Status)
		}
	}
}

// With an external broker that is not up yet, Open returns and the hub
// connects once the broker appears.
func TestExternalBrokerNotYetReachable(t *testing.T) {
	addr := testkit.FreeAddr(t)
	s := open(t, Config{Broker: "tcp://" + addr})
	if s.BrokerURL() != "tcp://"+addr {
		t.Errorf("BrokerURL = %q, want the configured tcp://%s", s.BrokerURL(), addr)
	}
	if body := httpGet(t, s.ConsoleURL()+"healthz"); body != "ok\n" {
		t.Errorf("healthz = %q while the broker is down, want ok", body)
	}
	select {
	case <-s.Subscribed():
		t.Fatal("subscribed with no broker running")
	default:
	}

	b, err := broker.Start(t.Context(), broker.Config{Listen: addr, Access: s.closedHook()})
	if err != nil {
		t.Fatalf("start the external broker on %s: %v", addr, err)
	}
	defer b.Close()
	select {
	case <-s.Subscribed():
	case <-time.After(deadline):
		t.Fatalf("hub did not subscribe within %s of the broker starting", deadline)
	}
	k := newKiosk(t, s, b.URL())
	k.publish(t, batch(t, 2))
	if got := k.nextAck(t); got.ack.Contiguous != 2 {
		t.Errorf("ack = %+v, want contiguous 2", got.ack)
	}
}

// Close returns promptly while the client is still retrying an
// unreachable broker, and leaves no goroutine behind (TestMain checks).
func TestCloseWhileBrokerUnreachable(t *testing.T) {
	s, err := Open(t.Context(), Config{
		DataDir: t.TempDir(), Broker: "tcp://" + testkit.FreeAddr(t), HTTPListen: "127.0.0.1:0", Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %s, want well under 2s", d)
	}
}

func TestOpenFailsCleanly(t *testing.T) {
	busy := open(t, Config{})
	httpAddr := strings.TrimSuffix(strings.TrimPrefix(busy.ConsoleURL(), "http://"), "/")
	_, err := Open(t.Context(), Config{
		DataDir: t.TempDir(), MQTTListen: "127.0.0.1:0", HTTPListen: httpAddr, Logger: testLogger(t),
	})
	if err == nil || !strings.Contains(err.Error(), "console") {
		t.Errorf("Open with a busy console port = %v, want a console error", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string // "" for valid
	}{
		{Config{DataDir: "d"}, ""},
		{Config{DataDir: "d", MQTTListen: ":1883", HTTPListen: "0.0.0.0:80", AllowPlainMQTT: true}, ""},
		{Config{DataDir: "d", MQTTListen: ":1883"}, "plain MQTT on :1883"},
		{Config{DataDir: "d", MQTTListen: "10.0.0.5:1883"}, "--allow-plain-mqtt"},
		{Config{DataDir: "d", MQTTListen: "localhost:1883"}, ""},
		{Config{DataDir: "d", MQTTListen: "[::1]:1883"}, ""},
		{Config{DataDir: "d", MQTTListen: Off, MQTTSListen: ":8883"}, ""},
		{Config{DataDir: "d", MQTTSListen: "8883"}, `MQTTSListen "8883"`},
		{Config{DataDir: "d", Broker: "tcp://mqtt.example:1883", AllowPlainMQTT: true}, ""},
		{Config{DataDir: "d", Broker: "mqtt://10.0.0.1:1883", MQTTListen: "ignored", AllowPlainMQTT: true}, ""},
		{Config{DataDir: "d", Broker: "tcp://mqtt.example:1883"}, "--allow-plain-mqtt"},
		{Config{DataDir: "d", Broker: "tls://mqtt.example:8883"}, ""},
		{Config{DataDir: "d", Broker: "tcp://127.0.0.1:1884"}, ""},
		{Config{}, "DataDir"},
		{Config{DataDir: "d", MQTTListen: "1883"}, `MQTTListen "1883"`},
		{Config{DataDir: "d", HTTPListen: "localhost:http2"}, `HTTPListen "localhost:http2"`},
		{Config{DataDir: "d", Broker: "ws://h:8883"}, `Broker "ws://h:8883"`},
		{Config{DataDir: "d", Broker: "tcp://h"}, `Broker "tcp://h"`},
		{Config{DataDir: "d", Broker: "tcp://u:p@h:1883"}, "Broker"},
		{Config{DataDir: "d", Broker: "h:1883"}, "Broker"},
	} {
		err := tc.cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Validate(%+v) = %v, want nil", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("Validate(%+v) = %v, want an error naming %s", tc.cfg, err, tc.want)
		}
	}
}

// Run returns once its context ends, having closed the hub: the console
// stops answering.
func TestRunClosesWhenContextEnds(t *testing.T) {
	s := open(t, Config{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	if body := httpGet(t, s.ConsoleURL()+"healthz"); body != "ok\n" {
		t.Fatalf("healthz = %q while running", body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(deadline):
		t.Fatal("Run did not return after its context ended")
	}
	if resp, err := http.Get(s.ConsoleURL() + "healthz"); err == nil {
		resp.Body.Close()
		t.Error("the console still answers after Run returned")
	}
}

// A hub on PostgreSQL bounds its groups at 512 entries unless told
// otherwise; one on SQLite leaves ingest's default.
func TestIngestGroupEntriesByEngine(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want int
	}{
		{Config{}, 0},
		{Config{IngestGroupEntries: 4096}, 4096},
		{Config{Database: "postgres://hub@db/gatepost"}, postgresGroupEntries},
		{Config{Database: "postgres://hub@db/gatepost", IngestGroupEntries: 2048}, 2048},
	} {
		if got := ingestGroupEntries(c.cfg); got != c.want {
			t.Errorf("ingestGroupEntries(database %q, flag %d) = %d, want %d", c.cfg.Database, c.cfg.IngestGroupEntries, got, c.want)
		}
	}
}
