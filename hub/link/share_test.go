package link

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gatepost/gatepost/hub/brokerconf"
	"github.com/gatepost/gatepost/internal/need"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

func TestShareNamesTheGroup(t *testing.T) {
	if got, want := Share("gatepost-hub", protocol.EntriesSubscription), "$share/gatepost-hub/"+protocol.EntriesSubscription; got != want {
		t.Errorf("Share = %q, want %q", got, want)
	}
	if got := Share("", protocol.EntriesSubscription); got != protocol.EntriesSubscription {
		t.Errorf("Share without a group = %q, want the filter alone", got)
	}
	for _, bad := range []string{"", "a/b", "a+", "#", " hub", "hub "} {
		if CheckShareGroup(bad) == nil {
			t.Errorf("CheckShareGroup(%q) = nil, want an error", bad)
		}
	}
	if _, err := Dial(Config{Broker: "tcp://127.0.0.1:1", ShareGroup: "a/b"}); err == nil {
		t.Error("Dial with share group a/b: no error")
	}
	if _, err := Dial(Config{Broker: "tcp://127.0.0.1:1", ClientID: "site/gate-1"}); err == nil {
		t.Error("Dial with a kiosk's client id: no error")
	}
}

// tally reads every batch and alert two links receive, by payload, until
// the test ends.
type tally struct {
	mu  sync.Mutex
	got map[string][]string // payload -> the links that received it
	by  map[string]int      // link -> how many it received
}

func (ty *tally) read(ctx context.Context, wg *sync.WaitGroup, name string, l *Link) {
	take := func(next func(context.Context) (string, []byte, bool)) {
		for {
			_, payload, ok := next(ctx)
			if !ok {
				return
			}
			ty.mu.Lock()
			ty.got[string(payload)] = append(ty.got[string(payload)], name)
			ty.by[name]++
			ty.mu.Unlock()
		}
	}
	wg.Go(func() { take(l.NextBatch) })
	wg.Go(func() { take(l.NextAlert) })
}

func (ty *tally) count() int {
	ty.mu.Lock()
	defer ty.mu.Unlock()
	n := 0
	for _, who := range ty.got {
		n += len(who)
	}
	return n
}

// shareOnce runs two links on broker url (as users a and b, each with
// its own client id), publishes n batches, presences and alerts of
// several kiosks as publisher, and returns what each link received.
// With a share group each message must reach one link; without, both.
func shareOnce(t *testing.T, url, group string, users [2]string, password string, publisher paho.Client, n int) *tally {
	t.Helper()
	ty := &tally{got: map[string][]string{}, by: map[string]int{}}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for _, u := range users {
		l := dial(t, Config{Broker: url, Username: u, Password: password, ClientID: u, ShareGroup: group})
		select {
		case <-l.Subscribed():
		case <-time.After(testkit.Wait):
			t.Fatalf("link %s not subscribed with share group %q", u, group)
		}
		ty.read(ctx, &wg, u, l)
	}
	for i := range n {
		k := fmt.Sprintf("gate-%d", i%7)
		topics := []string{protocol.EntriesTopic(site, k), protocol.StatusTopic(site, k), protocol.AlertsTopic(site, k)}
		for j, topic := range topics {
			tok := publisher.Publish(topic, 1, false, fmt.Sprintf("%d-%d", i, j))
			if !tok.WaitTimeout(testkit.Wait) || tok.Error() != nil {
				t.Fatalf("publish %s: %v", topic, tok.Error())
			}
		}
	}
	want := 3 * n
	if group == "" {
		want *= 2
	}
	testkit.Eventually(t, fmt.Sprintf("%d messages received", want), func() bool { return ty.count() >= want })
	// A little longer, for any copy that would come late.
	deadline := time.Now().Add(300 * time.Millisecond)
	testkit.Eventually(t, "300 ms more", func() bool { return time.Now().After(deadline) })
	if got := ty.count(); got != want {
		t.Fatalf("received %d messages, want %d", got, want)
	}
	return ty
}

func checkOnce(t *testing.T, ty *tally, n int, bothServe bool) {
	t.Helper()
	if len(ty.got) != 3*n {
		t.Fatalf("%d distinct messages received, want %d", len(ty.got), 3*n)
	}
	for payload, who := range ty.got {
		if len(who) != 1 {
			t.Fatalf("message %s reached %v, want exactly one replica", payload, who)
		}
	}
	if bothServe && len(ty.by) != 2 {
		t.Errorf("received by %v, want both replicas to take a share", ty.by)
	}
}

func connectPublisher(t *testing.T, url, user, password string) paho.Client {
	t.Helper()
	opts := paho.NewClientOptions().AddBroker(url).SetClientID(user).SetUsername(user).SetPassword(password)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(testkit.Wait) || tok.Error() != nil {
		t.Fatalf("publisher connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// On the embedded broker (mochi), two links with one share group
// receive each batch, presence and alert once between them; without a
// group, each receives everything (what replicas must not do).
func TestSharedSubscriptionDeliversOnceMochi(t *testing.T) {
	b := testkit.StartBroker(t)
	pub := connectPublisher(t, b.URL, "kiosks", "")
	const n = 60
	checkOnce(t, shareOnce(t, b.URL, "gatepost-hub", [2]string{"gatepost-hub-a", "gatepost-hub-b"}, "", pub, n), n, false)
	ty := shareOnce(t, b.URL, "", [2]string{"gatepost-hub-c", "gatepost-hub-d"}, "", pub, n)
	for payload, who := range ty.got {
		if len(who) != 2 {
			t.Fatalf("without a share group, message %s reached %v, want both links", payload, who)
		}
	}
}

// On Mosquitto, closed as `hub broker-config mosquitto` closes it
// (password_file, acl_file, the client id being the username), two
// replicas with accounts of their own share the kiosks' messages: each
// reaches one replica, and Mosquitto's round robin gives both a share.
func TestSharedSubscriptionDeliversOnceMosquitto(t *testing.T) {
	path := need.Program(t, "mosquitto", "mosquitto")
	const password = "hub-secret"
	hash, err := brokerconf.MosquittoHash(password)
	if err != nil {
		t.Fatal(err)
	}
	var accounts []brokerconf.Account
	users := [2]string{"gatepost-hub-replica-a", "gatepost-hub-replica-b"}
	for _, u := range []string{users[0], users[0] + IngestSuffix, users[1], users[1] + IngestSuffix, "gatepost-hub-cli"} {
		accounts = append(accounts, brokerconf.Account{Hub: true, Username: u, Hash: hash})
	}
	dir := t.TempDir()
	if err := brokerconf.WriteMosquitto(dir, accounts, nil); err != nil {
		t.Fatal(err)
	}
	addr := testkit.FreeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	conf := fmt.Sprintf("include_dir %s\npersistence false\nlistener %s %s\nuse_username_as_clientid true\n", filepath.Join(dir, "conf.d"), port, host)
	if os.Geteuid() == 0 {
		conf += "user root\n" // Mosquitto drops to "mosquitto", which cannot read a test's temp files
	}
	if err := os.MkdirAll(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, brokerconf.MosquittoConfName), filepath.Join(dir, "conf.d", "gatepost.conf")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "mosquitto.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "mosquitto.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "-c", filepath.Join(dir, "mosquitto.conf"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("mosquitto's log:\n%s", b)
		}
	})
	testkit.EventuallyNoError(t, "mosquitto accepting connections", func() error {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err
	})
	url := "tcp://" + addr
	pub := connectPublisher(t, url, "gatepost-hub-cli", password)
	const n = 60
	checkOnce(t, shareOnce(t, url, "gatepost-hub", users, password, pub, n), n, true)
}
