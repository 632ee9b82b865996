package daemon

import (
	"crypto/ed25519"
	"log/slog"
	"maps"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/enrollment"
	"github.com/gatepost/gatepost/kiosk/enrollment/enrollmenttest"
	"github.com/gatepost/gatepost/kiosk/uplink"
	"github.com/gatepost/gatepost/kiosk/words"
	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

// metric scrapes d's /metrics for the value of name.
func metric(d *Daemon, name string) (float64, bool) {
	rec := httptest.NewRecorder()
	d.metricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.Lines(rec.Body.String()) {
		if rest, ok := strings.CutPrefix(line, name+"{"); ok {
			_, value, _ := strings.Cut(rest, "} ")
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			return v, err == nil
		}
	}
	return 0, false
}

func publishRetained(t *testing.T, broker, topic string, payload []byte) {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID("test-hub-" + topic))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer c.Disconnect(0)
	if tok := c.Publish(topic, 1, true, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
}

// An enrolled kiosk logs in to the enrollment's broker (not the
// configuration's), applies the hub's signed config and refuses a forged
// one, shows no enrollment warning, and says so on /metrics.
func TestEnrolledDaemon(t *testing.T) {
	broker := testkit.StartBroker(t).URL
	cfg := config4(t) // its mqtt.broker leads nowhere
	if err := enrollment.Save(cfg.DataDir, enrollmenttest.Answer(cfg.Site, cfg.Kiosk, broker, nil)); err != nil {
		t.Fatal(err)
	}
	config := func(v uint64, fever string) protocol.Downlink {
		return protocol.Downlink{Kind: protocol.DownlinkConfig, Site: cfg.Site, Kiosk: cfg.Kiosk, Version: v, Issued: protocoltest.T0,
			Payload: []byte(`{"fever_c":` + fever + `}`)}
	}
	forger := ed25519.NewKeyFromSeed([]byte(strings.Repeat("f", ed25519.SeedSize)))
	forged, _ := protocol.SignDownlink(config(9, "39.9"), forger)
	publishRetained(t, broker, protocol.DownlinkTopic(cfg.Site, "", protocol.DownlinkConfig), forged)
	signed, _ := protocol.SignDownlink(config(2, "37.9"), enrollmenttest.DownlinkKey())
	publishRetained(t, broker, protocol.DownlinkTopic(cfg.Site, cfg.Kiosk, protocol.DownlinkConfig), signed)

	d := startDaemon(t, cfg)
	testkit.Eventually(t, "online at the enrollment's broker", d.uplink.Online)
	testkit.Eventually(t, "the signed config applied", func() bool { return d.gate.Fever() == 37.9 })
	testkit.Eventually(t, "the forged config refused", func() bool { return d.uplink.Stats().DownlinksRefused == 1 })
	if w := d.screen.State().Warning; strings.Contains(w, NotEnrolled()) {
		t.Errorf("an enrolled kiosk's warning = %q", w)
	}
	for _, name := range []string{"gatepost_kiosk_enrolled", "gatepost_kiosk_downlinks_refused_total"} {
		if v, ok := metric(d, name); v != 1 || !ok {
			t.Errorf("%s = %v, %v; want 1", name, v, ok)
		}
	}
}

// A kiosk that is not enrolled works as before, with the configuration's
// broker, and warns in both languages; an enrollment others can read
// stops the kiosk with a sentence that says what to do.
func TestUnenrolledDaemonWarns(t *testing.T) {
	cfg := config4(t)
	d := startDaemon(t, cfg)
	testkit.Eventually(t, "the enrollment warning", func() bool { return strings.Contains(d.screen.State().Warning, NotEnrolled()) })
	if zh, en := words.Sentence("zh-CN", KeyNotEnrolled, nil), words.Sentence("en", KeyNotEnrolled, nil); !strings.Contains(NotEnrolled(), zh) ||
		!strings.Contains(NotEnrolled(), en) || zh == en {
		t.Errorf("NotEnrolled() = %q, want the Chinese and the English", NotEnrolled())
	}
	if v, ok := metric(d, "gatepost_kiosk_enrolled"); v != 0 || !ok {
		t.Errorf("gatepost_kiosk_enrolled = %v, %v; want 0", v, ok)
	}

	exposed := config4(t)
	if err := enrollment.Save(exposed.DataDir, enrollmenttest.Answer(exposed.Site, exposed.Kiosk, "tcp://127.0.0.1:1", nil)); err != nil {
		t.Fatal(err)
	}
	os.Chmod(enrollment.Path(exposed.DataDir), 0o644)
	if _, err := Open(exposed, slog.New(slog.DiscardHandler), nil); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Open with an exposed enrollment = %v, want a refusal saying chmod 600", err)
	}
	other := config4(t)
	enrollment.Save(other.DataDir, enrollmenttest.Answer(other.Site, "gate-9", "tcp://127.0.0.1:1", nil))
	if _, err := Open(other, slog.New(slog.DiscardHandler), nil); err == nil || !strings.Contains(err.Error(), "is for "+other.Site+"/gate-9") {
		t.Errorf("Open with another kiosk's enrollment = %v", err)
	}
}

// Every enroll_ sentence the daemon shows is in both catalogues.
func TestEnrollSentencesInTheCatalogues(t *testing.T) {
	keys := slices.Sorted(maps.Keys(testkit.StringsInCode(t, "enroll_")))
	if len(keys) == 0 {
		t.Fatal("no enroll_ keys in the daemon's code")
	}
	for _, problem := range append(words.MissingKeys(keys), words.UnevenPlaceholders(keys)...) {
		t.Error(problem)
	}
}

// login takes the broker, login, client id, CA and key from the
// enrollment; a tls:// broker is checked by the enrollment's CA for the
// URL's host, and one the enrollment holds no CA for is refused.
func TestLogin(t *testing.T) {
	cfg := config4(t)
	cfg.MQTT.Username, cfg.MQTT.Password = "old", "old-password"
	var uc uplink.Config
	if enrolled, err := login(&uc, cfg, slog.New(slog.DiscardHandler)); enrolled || err != nil ||
		uc.Broker != cfg.MQTT.Broker || uc.Username != "old" || uc.ClientID != "" || uc.DownlinkKey != nil || uc.TLS != nil {
		t.Fatalf("not enrolled: login = %v, %v, %+v; want the configuration's broker and login, no key", enrolled, err, uc)
	}
	ca := enrollmenttest.NewCA(t, "hub CA")
	a := enrollmenttest.Answer(cfg.Site, cfg.Kiosk, "tls://hub.huamu.local:8883", ca)
	if err := enrollment.Save(cfg.DataDir, a); err != nil {
		t.Fatal(err)
	}
	uc = uplink.Config{}
	enrolled, err := login(&uc, cfg, slog.New(slog.DiscardHandler))
	if !enrolled || err != nil || uc.Broker != a.Broker || uc.Username != a.Username || uc.Password != a.Secret ||
		uc.ClientID != a.Username || uc.TLS == nil || uc.TLS.ServerName != "hub.huamu.local" || uc.TLS.RootCAs == nil ||
		!uc.DownlinkKey.Equal(enrollmenttest.DownlinkKey().Public()) {
		t.Fatalf("enrolled: login = %v, %v, %+v", enrolled, err, uc)
	}
	a.CA = ""
	if err := enrollment.Save(cfg.DataDir, a); err != nil {
		t.Fatal(err)
	}
	if _, err := login(&uplink.Config{}, cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "no CA") {
		t.Fatalf("a tls:// broker with no CA: login = %v, want a refusal", err)
	}
	a.Broker = "tcp://10.0.0.5:1883"
	if err := enrollment.Save(cfg.DataDir, a); err != nil {
		t.Fatal(err)
	}
	if _, err := login(&uplink.Config{}, cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "clear text") {
		t.Fatalf("an enrollment naming plain MQTT off this machine: login = %v, want a refusal", err)
	}
}

// /metrics carries the runtime's and the process's own figures, which a
// soak (bench/soak) and an operator watch for leaks.
func TestMetricsHaveRuntimeFigures(t *testing.T) {
	d := startDaemon(t, config4(t))
	rec := httptest.NewRecorder()
	d.metricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, name := range []string{"go_goroutines ", "go_memstats_heap_inuse_bytes ", "process_open_fds ", "process_resident_memory_bytes "} {
		if !strings.Contains(rec.Body.String(), "\n"+name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}
