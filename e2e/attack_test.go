package e2e

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/uuid"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

// The attack suite: strangers and a stolen kiosk try, with stock MQTT
// clients, every attack that worked before kiosks had identities, while a
// real kiosk keeps making entries and fever alerts. Each attack must be
// refused (and counted), the real kiosk must keep syncing, and its journal
// and the hub must match entry for entry: nothing lost, nothing stuck,
// nothing forged stored. It runs on the embedded broker and on a real
// Mosquitto closed by `hub broker-config mosquitto`.

func TestAttacksEmbeddedBroker(t *testing.T) { testAttacks(t, false) }

func TestAttacksMosquitto(t *testing.T) { testAttacks(t, true) }

// attacker is an MQTT client of the suite's: connected, or refused.
type attacker struct {
	t      *testing.T
	broker string
}

func (a attacker) connect(id, user, password string) (mqtt.Client, error) {
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(a.broker).SetClientID(id).SetUsername(user).SetPassword(password).
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second))
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return c, fmt.Errorf("connect timed out")
	}
	return c, tok.Error()
}

// publish sends payload to topic as the client and waits for the broker
// to take it (or to cut the client off, as mochi does on a topic it may
// not use; Mosquitto drops it silently).
func (a attacker) publish(c mqtt.Client, topic string, retained bool, payload []byte) {
	tok := c.Publish(topic, 1, retained, payload)
	tok.WaitTimeout(5 * time.Second)
}

// forgedBatch is a batch of n entries of kiosk from firstSeq, signed with
// key (nil: unsigned).
func forgedBatch(t *testing.T, key ed25519.PrivateKey, site, kiosk string, firstSeq uint64, n int, scan string) []byte {
	t.Helper()
	b := protocol.Batch{Kiosk: kiosk, Site: site, Sent: time.Now().UTC()}
	for i := range n {
		e := protocoltest.Entry(protocoltest.Kiosk(kiosk), protocoltest.Scan(fmt.Sprintf("%s-%d", scan, i)),
			protocoltest.At(time.Now().UTC()), protocoltest.ID(uuid.Must(uuid.NewV7()).String()))
		e.Seq = firstSeq + uint64(i)
		b.Entries = append(b.Entries, e)
	}
	if key != nil {
		if err := protocol.SignBatch(key, &b); err != nil {
			t.Fatal(err)
		}
	}
	data, err := protocol.EncodeBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func testAttacks(t *testing.T, mosquitto bool) {
	if testing.Short() {
		t.Skip("the attack suite takes half a minute; run without -short")
	}
	h := &hub{dataDir: t.TempDir(), mqttListen: testkit.FreeAddr(t), httpListen: testkit.FreeAddr(t), metricsListen: testkit.FreeAddr(t)}
	broker := "tcp://" + h.mqttListen
	if mosquitto {
		h.mosq = startMosquitto(t, h.dataDir)
		h.broker, broker = h.mosq.url, h.mosq.url
	}
	// The real kiosk, a stolen one (enrolled, its login in the attacker's
	// hands) and one retired.
	g := faultGate(t, broker)
	h.enrollKiosk(t, g.cfgPath, broker)
	stolen, stolenKey := h.kioskLoginWithKey(t, "site-1", "gate-9", broker)
	retired := h.kioskLogin(t, "site-1", "gate-8", broker)
	hubUser, hubPass := h.hubLogin(t)
	hp := h.start(t)
	k := g.startKiosk(t)
	ld := startLoad(t, g, 20*time.Millisecond)
	testkit.EventuallyState(t, syncBound, "the kiosk syncing", func() (bool, string) {
		st := kioskStatus(t, g.cfgPath)
		return st.AckedSeq > 10, fmt.Sprintf("%+v", st)
	})

	a := attacker{t: t, broker: broker}

	// A kiosk retired while connected: the embedded broker ends its
	// session at once; Mosquitto keeps it until reloaded, and meanwhile
	// the hub refuses what it sends. After the reload it cannot log in.
	rc, err := a.connect(retired.Username, retired.Username, retired.Secret)
	if err != nil {
		t.Fatalf("gate-8 before it is retired: %v", err)
	}
	run(t, "hub", "kiosks", "retire", "gate-8", "--data", h.dataDir)
	if mosquitto {
		a.publish(rc, protocol.EntriesTopic("site-1", "gate-8"), false, forgedBatch(t, nil, "site-1", "gate-8", 1, 1, "FORGED-BY-GATE-8"))
		testkit.EventuallyState(t, syncBound, "the hub refuses the retired kiosk's batch", func() (bool, string) {
			m := metricValue(t, h, `gatepost_hub_rejected_total{reason="retired"}`)
			return m >= 1, fmt.Sprint(m)
		})
		h.mosq.reload(t, h.dataDir)
	}
	testkit.EventuallyState(t, syncBound, "the retired kiosk's session ends", func() (bool, string) { return !rc.IsConnectionOpen(), "open" })

	refusedLogins := 0
	mustRefuse := func(what, id, user, pw string) {
		t.Helper()
		if c, err := a.connect(id, user, pw); err == nil {
			c.Disconnect(0)
			t.Errorf("%s: admitted", what)
			return
		}
		refusedLogins++
	}
	// Strangers.
	mustRefuse("an outsider with no credentials", "x", "", "")
	mustRefuse("an outsider guessing gate-1's password", "site-1/gate-1", "site-1/gate-1", "123456")
	mustRefuse("an outsider as the hub, guessing", "gatepost-hub-x", hubUser, "guess")
	mustRefuse("the retired kiosk", retired.Username, retired.Username, retired.Secret)
	if !mosquitto { // Mosquitto replaces the client id by the username (use_username_as_clientid)
		mustRefuse("the stolen kiosk taking gate-1's client id", "site-1/gate-1", stolen.Username, stolen.Secret)
	}

	// The stolen kiosk: every message below must come to nothing.
	forgedScan := "FORGED-BY-GATE-9"
	if !mosquitto {
		if !slices.ContainsFunc([]string{"1"}, func(string) bool {
			return metricValue(t, h, "gatepost_hub_broker_refused_total") >= float64(refusedLogins)
		}) {
			t.Errorf("the embedded broker counted fewer refusals than the %d logins refused", refusedLogins)
		}
	}
	st0 := kioskStatus(t, g.cfgPath)
	_, otherKey, _ := ed25519.GenerateKey(nil) // the login without the device's key
	config40, _ := json.Marshal(map[string]any{"fever_c": 40.0})
	downlink := func(kind protocol.DownlinkKind, payload []byte) []byte {
		d, err := protocol.EncodeDownlink(protocol.Downlink{Kind: kind, Site: "site-1", Version: 501, Issued: time.Now().UTC(), Payload: payload})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	ack, _ := protocol.EncodeAck(protocol.Ack{Kiosk: "gate-1", Contiguous: st0.LastSeq + 50, Highest: st0.LastSeq + 50, Time: time.Now().UTC()})
	for _, m := range []struct {
		what, topic string
		payload     []byte
	}{
		{"a batch as gate-1 ahead of it", protocol.EntriesTopic("site-1", "gate-1"), forgedBatch(t, stolenKey, "site-1", "gate-1", st0.LastSeq+5, 1, forgedScan)},
		{"an alert as gate-1", protocol.AlertsTopic("site-1", "gate-1"), forgedBatch(t, stolenKey, "site-1", "gate-1", st0.LastSeq+6, 1, forgedScan)},
		{"an offline status as gate-1", protocol.StatusTopic("site-1", "gate-1"), []byte(`{"v":1,"kiosk":"gate-1","site":"site-1","online":false}`)},
		{"an ack for gate-1 ahead", protocol.AckTopic("site-1", "gate-1"), ack},
		{"a config downlink (40 °C, version 501)", protocol.DownlinkTopic("site-1", "", protocol.DownlinkConfig), downlink(protocol.DownlinkConfig, config40)},
		{"an empty status list", protocol.DownlinkTopic("site-1", "", protocol.DownlinkStatusList), downlink(protocol.DownlinkStatusList, []byte(`{"revoked":[]}`))},
		{"a batch of another site's kiosk", protocol.EntriesTopic("site-2", "gate-1"), forgedBatch(t, stolenKey, "site-2", "gate-1", 1, 1, forgedScan)},
		{"a batch on its own topic naming gate-1", protocol.EntriesTopic("site-1", "gate-9"), forgedBatch(t, stolenKey, "site-1", "gate-1", st0.LastSeq+7, 1, forgedScan)},
		{"its own batch at sequence 2^63-1", protocol.EntriesTopic("site-1", "gate-9"), forgedBatch(t, stolenKey, "site-1", "gate-9", math.MaxInt64, 1, forgedScan)},
		{"its own batch signed with another key", protocol.EntriesTopic("site-1", "gate-9"), forgedBatch(t, otherKey, "site-1", "gate-9", 1, 1, forgedScan)},
		{"its own batch unsigned", protocol.EntriesTopic("site-1", "gate-9"), forgedBatch(t, nil, "site-1", "gate-9", 1, 1, forgedScan)},
	} {
		c, err := a.connect(stolen.Username, stolen.Username, stolen.Secret)
		if err != nil {
			t.Fatalf("the stolen kiosk's own login: %v", err)
		}
		a.publish(c, m.topic, true, m.payload)
		c.Disconnect(0)
	}
	// A stolen hub password still cannot make a kiosk apply a downlink:
	// it carries no signature by the hub's downlink key.
	hc, err := a.connect("gatepost-hub-thief", hubUser, hubPass)
	if err != nil {
		t.Fatalf("the hub's login: %v", err)
	}
	a.publish(hc, protocol.DownlinkTopic("site-1", "", protocol.DownlinkConfig), true, downlink(protocol.DownlinkConfig, config40))

	// A flood from the stolen kiosk's own topic while gate-1 makes alerts.
	c, err := a.connect(stolen.Username, stolen.Username, stolen.Secret)
	if err != nil {
		t.Fatal(err)
	}
	const flood = 2000
	floodStart := time.Now()
	first := forgedBatch(t, stolenKey, "site-1", "gate-9", 1, 1, "FLOOD")
	c.Publish(protocol.EntriesTopic("site-1", "gate-9"), 1, false, first).WaitTimeout(5 * time.Second)
	for i := 1; i < flood; i++ {
		c.Publish(protocol.EntriesTopic("site-1", "gate-9"), 0, false, forgedBatch(t, stolenKey, "site-1", "gate-9", uint64(i+1), 1, "FLOOD"))
	}
	c.Disconnect(250)
	floodTook := time.Since(floodStart)
	// Replayed: the same batch again stores nothing new.
	dupsBefore := metricValue(t, h, "gatepost_hub_entries_duplicate_total")
	testkit.EventuallyState(t, syncBound, "a replayed batch is taken as a duplicate", func() (bool, string) {
		c, err := a.connect(stolen.Username, stolen.Username, stolen.Secret)
		if err != nil {
			return false, err.Error()
		}
		a.publish(c, protocol.EntriesTopic("site-1", "gate-9"), false, first)
		c.Disconnect(0)
		d := metricValue(t, h, "gatepost_hub_entries_duplicate_total")
		return d > dupsBefore, fmt.Sprintf("duplicates %v", d)
	})
	if !mosquitto { // Mosquitto's own message_size_limit and log cover it there
		c, err := a.connect(stolen.Username, stolen.Username, stolen.Secret)
		if err != nil {
			t.Fatal(err)
		}
		c.Publish(protocol.EntriesTopic("site-1", "gate-9"), 0, false, make([]byte, protocol.MaxMessageBytes+1<<20)).WaitTimeout(10 * time.Second)
		testkit.EventuallyState(t, syncBound, "the oversize packet counted", func() (bool, string) {
			n := metricValue(t, h, "gatepost_hub_broker_oversize_total")
			return n >= 1, fmt.Sprint(n)
		})
		c.Disconnect(0)
	}

	// The real kiosk's fevers made after the flood reach the hub.
	alertsBefore := countAlerts(t, h)
	testkit.EventuallyState(t, syncBound, "gate-1's alerts still reach the hub after the flood", func() (bool, string) {
		n := countAlerts(t, h)
		return n > alertsBefore, fmt.Sprintf("%d alerts, %d before", n, alertsBefore)
	})
	ld.end()
	n := checkExactlyOnce2(t, g, h, "gate-1")

	// Nothing forged is stored, applied or acknowledged.
	seen9 := map[uint64]bool{}
	for _, e := range hubEntries(t, h.dataDir) {
		if strings.HasPrefix(e.Scan, "FORGED-BY-") {
			t.Errorf("the hub stored a forged entry: %+v", e)
		}
		if e.Kiosk == "gate-9" {
			if seen9[e.Seq] {
				t.Errorf("the hub holds gate-9's seq %d twice", e.Seq)
			}
			seen9[e.Seq] = true
		}
	}
	var st struct {
		Downlink map[string]uint64 `json:"downlink"`
	}
	runJSON(t, &st, "kiosk", "status", "--json", "--config", g.cfgPath)
	if st.Downlink["config"] >= 501 || st.Downlink["status_list"] >= 501 {
		t.Errorf("the kiosk applied a forged downlink: %v", st.Downlink)
	}
	metrics := httpText(t, "http://"+h.metricsListen+"/metrics")
	var counts []string
	for _, line := range strings.Split(metrics, "\n") {
		if !strings.HasPrefix(line, "#") && (strings.Contains(line, "rejected") || strings.Contains(line, "refused") ||
			strings.Contains(line, "rate_limited") || strings.Contains(line, "oversize")) {
			counts = append(counts, line)
		}
	}
	if !slices.ContainsFunc(counts, func(l string) bool { return strings.Contains(l, "seq_window") && !strings.HasSuffix(l, " 0") }) {
		t.Errorf("the out-of-range sequence was not counted:\n%s", strings.Join(counts, "\n"))
	}
	if !slices.ContainsFunc(counts, func(l string) bool { return strings.Contains(l, `"signature"`) && !strings.HasSuffix(l, " 0") }) {
		t.Errorf("the two batches not signed with gate-9's key were not counted as refused for the signature:\n%s",
			strings.Join(counts, "\n"))
	}
	brokerName := "embedded broker"
	if mosquitto {
		brokerName = "Mosquitto"
	}
	t.Logf("%s: %d logins refused; a kiosk retired while connected cut off; 11 forged messages from a stolen kiosk (2 of them without its key), a replayed batch and 1 unsigned downlink with the hub's password came to nothing; "+
		"a flood of %d batches in %s; gate-1 synced %d entries exactly once throughout. Hub counts:\n%s",
		brokerName, refusedLogins, flood, floodTook.Round(time.Millisecond), n, strings.Join(counts, "\n"))
	k.stop(t)
	hp.stop(t)
}

func countAlerts(t *testing.T, h *hub) int {
	n := 0
	for _, e := range hubEntries(t, h.dataDir) {
		if e.Decision == "alert" && e.Kiosk == "gate-1" {
			n++
		}
	}
	return n
}

// checkExactlyOnce2 is checkExactlyOnce for one kiosk of several.
func checkExactlyOnce2(t *testing.T, g *gate, h *hub, kiosk string) int {
	t.Helper()
	var journaled map[uint64]string
	var mine []hubEntry
	testkit.EventuallyState(t, syncBound, kiosk+" fully synced, journal and hub at one count", func() (bool, string) {
		st := kioskStatus(t, g.cfgPath)
		if st.Unsynced != 0 || st.LastSeq == 0 {
			return false, fmt.Sprintf("%+v", st)
		}
		journaled, mine = g.journaled(t), nil
		for _, e := range hubEntries(t, h.dataDir) {
			if e.Kiosk == kiosk {
				mine = append(mine, e)
			}
		}
		return len(journaled) == len(mine), fmt.Sprintf("%+v; journal %d, hub %d", st, len(journaled), len(mine))
	})
	for _, e := range mine {
		if journaled[e.Seq] != e.ID {
			t.Errorf("hub %s seq %d has id %s, the journal %q", kiosk, e.Seq, e.ID, journaled[e.Seq])
		}
	}
	return len(mine)
}

func httpText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// metricValue reads one sample of the hub's /metrics, 0 if absent.
func metricValue(t *testing.T, h *hub, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(httpText(t, "http://"+h.metricsListen+"/metrics"), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("/metrics %s: %v", line, err)
			}
			return f
		}
	}
	return 0
}
