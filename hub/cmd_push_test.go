package main

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mochimqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/downlink"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/server"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// hub push refuses a bad config before storing anything, and with the
// broker away stores the message and says it was not published.
func TestPushCommand(t *testing.T) {
	dir := t.TempDir()
	s, err := records.Open(filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	away := "tcp://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	var out bytes.Buffer
	for _, payload := range []string{`{"fever_c":99}`, `[1]`, `{"fever_c":"hot"}`} {
		if err := run(t, t.Context(), &out, "push", "--data", dir, "--broker", away, "--site", "huamu-1", "--payload", payload); err == nil ||
			!strings.Contains(err.Error(), "push refused") {
			t.Errorf("push %s = %v, want refused", payload, err)
		}
	}
	if ds, _ := s.Downlinks(t.Context()); len(ds) != 0 {
		t.Fatalf("refused pushes stored %+v", ds)
	}
	err = run(t, t.Context(), &out, "push", "--data", dir, "--broker", away, "--site", "huamu-1", "--payload", `{"fever_c":37.5}`)
	if !errors.Is(err, downlink.ErrNotPublished) || !strings.Contains(err.Error(), "config version 1 stored but not published") {
		t.Errorf("push with the broker away = %v, want stored but not published", err)
	}
	if ds, _ := s.Downlinks(t.Context()); len(ds) != 1 || ds[0].Version != 1 || string(ds[0].Payload) != `{"fever_c":37.5}` {
		t.Errorf("stored downlinks = %+v, want config v1", ds)
	}
}

// pushLogins is a mochi hook that admits everyone and records each
// CONNECT's username, password and client id.
type pushLogins struct {
	mochimqtt.HookBase
	mu     sync.Mutex
	logins [][3]string
}

func (h *pushLogins) ID() string { return "test-push-logins" }
func (h *pushLogins) Provides(b byte) bool {
	return b == mochimqtt.OnConnectAuthenticate || b == mochimqtt.OnACLCheck
}
func (h *pushLogins) OnConnectAuthenticate(cl *mochimqtt.Client, pk packets.Packet) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logins = append(h.logins, [3]string{string(pk.Connect.Username), string(pk.Connect.Password), cl.ID})
	return true
}
func (h *pushLogins) OnACLCheck(*mochimqtt.Client, string, bool) bool { return true }

// hub push signs with the hub's downlink key and logs in to the broker
// with the hub's own account, under a client id of its own.
func TestPushSignsAndLogsIn(t *testing.T) {
	dir := t.TempDir()
	s, err := records.Open(filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	hook := new(pushLogins)
	b := testkit.StartBrokerWith(t, testkit.BrokerOptions{Hooks: []mochimqtt.Hook{hook}})
	var out bytes.Buffer
	if err := run(t, t.Context(), &out, "push", "--data", dir, "--broker", b.URL, "--site", "huamu-1",
		"--payload", `{"fever_c":37.5}`); err != nil {
		t.Fatalf("push: %v\n%s", err, out.String())
	}
	key, err := datadir.Dir{Path: dir}.DownlinkKey()
	if err != nil {
		t.Fatal(err)
	}
	user, password, _ := datadir.Dir{Path: dir}.BrokerLogin()
	retained := make(chan []byte, 1)
	b.Server.Subscribe(protocol.DownlinkTopic("huamu-1", "", protocol.DownlinkConfig), 1, func(_ *mochimqtt.Client, _ packets.Subscription, pk packets.Packet) {
		select {
		case retained <- pk.Payload:
		default:
		}
	})
	var body []byte
	select {
	case body = <-retained:
	case <-time.After(testkit.Wait):
		t.Fatal("no retained downlink on the broker")
	}
	d, err := protocol.OpenDownlink(body, key.Public().(ed25519.PublicKey))
	if err != nil || d.Version != 1 {
		t.Fatalf("retained downlink %s: %+v, %v; want v1 signed with the hub's downlink key", body, d, err)
	}
	hook.mu.Lock()
	defer hook.mu.Unlock()
	if len(hook.logins) != 1 || hook.logins[0][0] != datadir.HubCLIUser || hook.logins[0][1] != password || hook.logins[0][2] == user {
		t.Fatalf("logins %q, want one as %s (not %s, hub serve's) with the hub's password and a client id of its own", hook.logins, datadir.HubCLIUser, user)
	}
}

// hub push reaches a hub served over TLS only, trusting the hub's own CA
// from the data folder, and is admitted by the closed broker as the hub;
// a plain broker off this machine is refused before anything is sent.
func TestPushOverTLSToTheClosedBroker(t *testing.T) {
	dir := t.TempDir()
	if _, err := pki.Init(dir, pki.Options{Names: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	s, err := server.Open(t.Context(), server.Config{DataDir: dir, MQTTListen: server.Off, MQTTSListen: "127.0.0.1:0",
		EnrollListen: server.Off, HTTPListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out bytes.Buffer
	if err := run(t, t.Context(), &out, "push", "--data", dir, "--broker", s.BrokerURL(), "--site", "huamu-1",
		"--payload", `{"fever_c":37.6}`); err != nil {
		t.Fatalf("push over TLS: %v", err)
	}
	if !strings.Contains(out.String(), "published config version 1") {
		t.Fatalf("push printed %q", out.String())
	}
	err = run(t, t.Context(), &out, "push", "--data", dir, "--broker", "tcp://10.0.0.5:1883", "--site", "huamu-1", "--payload", `{"fever_c":37.6}`)
	if err == nil || !strings.Contains(err.Error(), "clear text") {
		t.Fatalf("push to a plain broker off this machine = %v", err)
	}
}
