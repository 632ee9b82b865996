package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gatepost/gatepost/hub/brokerconf"
	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/link"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/hub/server"
	"github.com/gatepost/gatepost/internal/need"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// enrollForTest adds kiosks to the registry in dataDir by public key (the
// offline path) and returns their broker credentials by kiosk id.
func enrollForTest(t *testing.T, dataDir string, sk ...[2]string) map[string]registry.Credentials {
	t.Helper()
	reg, err := datadir.Dir{Path: dataDir}.OpenRegistry()
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	creds := map[string]registry.Credentials{}
	for _, k := range sk {
		pub := testKioskKey(k[1]).Public().(ed25519.PublicKey)
		if creds[k[1]], err = reg.Add(t.Context(), k[0], k[1], pub); err != nil {
			t.Fatal(err)
		}
	}
	return creds
}

// testKioskKey is the key enrollForTest enrolls kiosk with, to sign its
// batches.
func testKioskKey(kiosk string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("test kiosk key " + kiosk))
	return ed25519.NewKeyFromSeed(seed[:])
}

func retireForTest(t *testing.T, dataDir, kiosk string) {
	t.Helper()
	reg, err := datadir.Dir{Path: dataDir}.OpenRegistry()
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	if err := reg.Retire(t.Context(), kiosk); err != nil {
		t.Fatal(err)
	}
}

// brokerConfig runs `hub broker-config mosquitto` and returns its output.
func brokerConfig(t *testing.T, dataDir, out string) string {
	t.Helper()
	var b bytes.Buffer
	if err := run(t, t.Context(), &b, "--data", dataDir, "broker-config", "mosquitto", "--out", out); err != nil {
		t.Fatalf("hub broker-config mosquitto: %v", err)
	}
	return b.String()
}

// startMosquitto runs Mosquitto with the snippet the command wrote and a
// plain loopback listener; it returns the broker's URL and its process.
func startMosquitto(t *testing.T, out string) (string, *exec.Cmd) {
	t.Helper()
	bin := need.Program(t, "mosquitto", "mosquitto")
	snippet, err := os.ReadFile(filepath.Join(out, brokerconf.MosquittoConfName))
	if err != nil {
		t.Fatal(err)
	}
	addr := testkit.FreeAddr(t)
	host, port, _ := strings.Cut(addr, ":")
	conf := string(snippet) + fmt.Sprintf("listener %s %s\nuse_username_as_clientid true\npersistence false\n", port, host)
	// As root, Mosquitto drops to the "mosquitto" user, who cannot read the
	// test's files: tell it to stay who it is.
	if me, err := user.Current(); err == nil {
		conf = "user " + me.Username + "\n" + conf
	}
	confPath := filepath.Join(t.TempDir(), "mosquitto.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", confPath)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("mosquitto said:\n%s", logs.String())
		}
	})
	return "tcp://" + addr, cmd
}

// mqttLogin connects once, without retrying; lost is told if the broker
// later cuts the connection.
func mqttLogin(url, id, username, password string, lost chan<- string) (paho.Client, error) {
	o := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetUsername(username).SetPassword(password).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(5 * time.Second).
		SetConnectionLostHandler(func(paho.Client, error) {
			if lost != nil {
				lost <- username
			}
		})
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, errors.New("connect timed out")
	}
	return c, tok.Error()
}

func subscribe(t *testing.T, c paho.Client, filter string, got chan<- string) {
	t.Helper()
	tok := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) { got <- m.Topic() + " " + string(m.Payload()) })
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
	if st := tok.(*paho.SubscribeToken); st.Result()[filter] == 0x80 {
		t.Fatalf("Mosquitto refused the subscription to %s", filter)
	}
}

func publish(t *testing.T, c paho.Client, topic, payload string) {
	t.Helper()
	if tok := c.Publish(topic, 1, false, payload); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

func expect(t *testing.T, got <-chan string, want, why string) {
	t.Helper()
	select {
	case m := <-got:
		if m != want {
			t.Fatalf("%s: received %q first, want %q", why, m, want)
		}
	case <-time.After(testkit.Wait):
		t.Fatalf("%s: %q never arrived", why, want)
	}
}

// TestBrokerConfigOnMosquitto: the files `hub broker-config mosquitto`
// writes, loaded by a real Mosquitto, admit enrolled kiosks to their own
// topics only and the hub to everything, refuse strangers, and after a
// retire, a second run and a reload, refuse the retired kiosk.
func TestBrokerConfigOnMosquitto(t *testing.T) {
	data, out := t.TempDir(), filepath.Join(t.TempDir(), "mosquitto")
	creds := enrollForTest(t, data, [2]string{"huamu-1", "gate-1"}, [2]string{"huamu-1", "gate-2"}, [2]string{"huamu-2", "gate-3"})
	said := brokerConfig(t, data, out)
	for _, w := range []string{"3 enrolled kiosks", "systemctl reload mosquitto", "kill -HUP", "cut only on reload"} {
		if !strings.Contains(said, w) {
			t.Errorf("broker-config's output lacks %q:\n%s", w, said)
		}
	}
	url, mosquitto := startMosquitto(t, out)
	hubUser, hubPassword, err := datadir.Dir{Path: data}.BrokerLogin()
	if err != nil {
		t.Fatal(err)
	}

	var hub paho.Client
	testkit.EventuallyNoError(t, "the hub logs in to Mosquitto", func() (err error) {
		hub, err = mqttLogin(url, "gatepost-hub-test", hubUser, hubPassword, nil)
		return err
	})
	defer hub.Disconnect(0)
	atHub, shared := make(chan string, 16), make(chan string, 16)
	subscribe(t, hub, protocol.TopicRoot+"/#", atHub)
	subscribe(t, hub, "$share/hubs/"+protocol.EntriesSubscription, shared) // replicas share the batches

	if c, err := mqttLogin(url, "stranger", "", "", nil); err == nil {
		c.Disconnect(0)
		t.Error("an anonymous client was let in")
	}
	if c, err := mqttLogin(url, "x", "huamu-1/gate-1", "wrong", nil); err == nil {
		c.Disconnect(0)
		t.Error("a wrong password was let in")
	}

	lost := make(chan string, 4)
	k1, err := mqttLogin(url, "k1", creds["gate-1"].Username, creds["gate-1"].Secret, lost)
	if err != nil {
		t.Fatalf("an enrolled kiosk was refused: %v", err)
	}
	defer k1.Disconnect(0)
	k2, err := mqttLogin(url, "k2", creds["gate-2"].Username, creds["gate-2"].Secret, lost)
	if err != nil {
		t.Fatalf("an enrolled kiosk was refused: %v", err)
	}
	defer k2.Disconnect(0)
	// Another kiosk connecting under gate-1's client ids (the one it gave
	// and its username) takes nothing over: Mosquitto makes every client
	// id the username.
	for _, id := range []string{"k1", creds["gate-1"].Username} {
		thief, err := mqttLogin(url, id, creds["gate-3"].Username, creds["gate-3"].Secret, nil)
		if err != nil {
			t.Fatalf("gate-3 login: %v", err)
		}
		thief.Disconnect(0)
	}

	// gate-1 publishing as gate-2, as another site, an ack or a downlink is
	// dropped; its own entries arrive (the marker proves the rest was not
	// merely late), also through the shared subscription.
	for _, topic := range []string{protocol.EntriesTopic("huamu-1", "gate-2"), protocol.EntriesTopic("huamu-2", "gate-1"),
		protocol.AckTopic("huamu-1", "gate-1"), protocol.DownlinkTopic("huamu-1", "", protocol.DownlinkKeys)} {
		publish(t, k1, topic, "forged")
	}
	publish(t, k1, protocol.EntriesTopic("huamu-1", "gate-1"), "mine")
	expect(t, atHub, protocol.EntriesTopic("huamu-1", "gate-1")+" mine", "the hub reads only the kiosk's own topics")
	expect(t, shared, protocol.EntriesTopic("huamu-1", "gate-1")+" mine", "the hub's shared subscription")

	// The hub publishes an ack and downlinks; gate-1 reads its own and its
	// site's, never gate-2's ack.
	mine := make(chan string, 16)
	for _, f := range append(protocol.DownlinkSubscriptions("huamu-1", "gate-1"), protocol.AckTopic("huamu-1", "gate-1")) {
		subscribe(t, k1, f, mine)
	}
	k1.Subscribe(protocol.AckTopic("huamu-1", "gate-2"), 1, func(_ paho.Client, m paho.Message) { mine <- m.Topic() + " stolen" }).
		WaitTimeout(5 * time.Second)
	publish(t, hub, protocol.AckTopic("huamu-1", "gate-2"), "x")
	publish(t, hub, protocol.DownlinkTopic("huamu-1", "", protocol.DownlinkConfig), "x")
	publish(t, hub, protocol.AckTopic("huamu-1", "gate-1"), "x")
	expect(t, mine, protocol.DownlinkTopic("huamu-1", "", protocol.DownlinkConfig)+" x", "the kiosk reads its site's downlinks")
	expect(t, mine, protocol.AckTopic("huamu-1", "gate-1")+" x", "the kiosk reads its own ack, not another's")

	// Retire gate-2, write the files again and reload Mosquitto.
	retireForTest(t, data, "gate-2")
	if said := brokerConfig(t, data, out); !strings.Contains(said, "2 enrolled kiosks") {
		t.Errorf("after the retire, broker-config said:\n%s", said)
	}
	if err := mosquitto.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case who := <-lost:
		if who != creds["gate-2"].Username {
			t.Fatalf("the reload cut %s, want only the retired %s", who, creds["gate-2"].Username)
		}
	case <-time.After(testkit.Wait):
		t.Fatal("the retired kiosk's open session survived the reload")
	}
	testkit.EventuallyNoError(t, "the retired kiosk is refused after the reload", func() error {
		c, err := mqttLogin(url, "k2", creds["gate-2"].Username, creds["gate-2"].Secret, nil)
		if err == nil {
			c.Disconnect(0)
			return errors.New("the retired kiosk logged in")
		}
		return nil
	})
	// The others stay: gate-1's session still carries its entries.
	publish(t, k1, protocol.EntriesTopic("huamu-1", "gate-1"), "still")
	testkit.Eventually(t, "gate-1's entries after the reload", func() bool {
		for {
			select {
			case m := <-atHub:
				if m == protocol.EntriesTopic("huamu-1", "gate-1")+" still" {
					return true
				}
			default:
				return false
			}
		}
	})
	if k1.IsConnectionOpen() != true {
		t.Error("the reload cut an enrolled kiosk")
	}
}

// Only enrolled kiosks get a login: never a pending or a retired one.
func TestBrokerConfigListsOnlyEnrolledKiosks(t *testing.T) {
	data, out := t.TempDir(), t.TempDir()
	enrollForTest(t, data, [2]string{"huamu-1", "gate-1"}, [2]string{"huamu-1", "gate-2"})
	retireForTest(t, data, "gate-2")
	reg, err := datadir.Dir{Path: data}.OpenRegistry()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := reg.NewCode(t.Context(), "huamu-2", "gate-3", time.Hour); err != nil {
		t.Fatal(err)
	}
	reg.Close()
	brokerConfig(t, data, out)
	pw, err := os.ReadFile(filepath.Join(out, brokerconf.PasswordFileName))
	if err != nil {
		t.Fatal(err)
	}
	var users []string
	for _, line := range strings.Split(strings.TrimSpace(string(pw)), "\n") {
		u, _, _ := strings.Cut(line, ":")
		users = append(users, u)
	}
	if strings.Join(users, " ") != datadir.HubUser+" "+datadir.HubCLIUser+" "+datadir.HubUser+link.IngestSuffix+" huamu-1/gate-1" {
		t.Errorf("password_file users = %v, want the hub (serve, its ingest connection and its commands) and huamu-1/gate-1 alone", users)
	}
	acl, _ := os.ReadFile(filepath.Join(out, brokerconf.ACLFileName))
	if strings.Contains(string(acl), "gate-2") || strings.Contains(string(acl), "gate-3") {
		t.Errorf("acl_file names a retired or pending kiosk:\n%s", acl)
	}
}

// A mistyped --data must not write files that lock every kiosk out, and
// --out is required.
func TestBrokerConfigRefusals(t *testing.T) {
	out := t.TempDir()
	err := run(t, t.Context(), new(bytes.Buffer), "--data", filepath.Join(out, "no-such"), "broker-config", "mosquitto", "--out", out)
	if err == nil || !strings.Contains(err.Error(), "--data") {
		t.Errorf("broker-config with a missing data folder = %v, want an error pointing at --data", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a refused run wrote %d files", len(entries))
	}
	err = run(t, t.Context(), new(bytes.Buffer), "--data", out, "broker-config", "mosquitto")
	if err == nil || !strings.Contains(err.Error(), "--out is required") {
		t.Errorf("broker-config without --out = %v", err)
	}
}

// `hub broker-config` and `hub serve --broker` agree with no flag: the
// hub logs in to Mosquitto with the data folder's own account, ingests a
// kiosk's batch and publishes its ack, which the kiosk reads.
func TestServeLogsInToMosquittoWithTheDataFoldersAccount(t *testing.T) {
	data, out := t.TempDir(), filepath.Join(t.TempDir(), "mosquitto")
	creds := enrollForTest(t, data, [2]string{"huamu-1", "gate-1"})
	brokerConfig(t, data, out)
	url, _ := startMosquitto(t, out)
	testkit.EventuallyNoError(t, "Mosquitto is up", func() error {
		c, err := mqttLogin(url, "probe", creds["gate-1"].Username, creds["gate-1"].Secret, nil)
		if err == nil {
			c.Disconnect(0)
		}
		return err
	})
	serveSubscribed(t, server.Config{DataDir: data, Broker: url}, "with its data folder's account")
	k, err := mqttLogin(url, "k", creds["gate-1"].Username, creds["gate-1"].Secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Disconnect(0)
	acks := make(chan string, 4)
	subscribe(t, k, protocol.AckTopic("huamu-1", "gate-1"), acks)
	b := protocol.Batch{Kiosk: "gate-1", Site: "huamu-1", Sent: t0, Entries: []protocol.Entry{{
		Kiosk: "gate-1", Seq: 1, ID: "0190d6e4-7a4b-7cc0-8b8e-000000000001", Time: t0,
		Kind: protocol.KindCheck, Decision: protocol.DecisionAllow, Reasons: []string{}}}}
	if err := protocol.SignBatch(testKioskKey("gate-1"), &b); err != nil {
		t.Fatal(err)
	}
	payload, err := protocol.EncodeBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, k, protocol.EntriesTopic("huamu-1", "gate-1"), string(payload))
	select {
	case <-acks:
	case <-time.After(testkit.Wait):
		t.Fatal("no ack from the hub through Mosquitto")
	}
}

// The snippet's TLS lines, uncommented, are a working Mosquitto listener
// with the hub's certificate (`hub tls init`), and the hub logs in to it
// over tls:// trusting its own CA alone.
func TestBrokerConfigTLSLinesServeTheHub(t *testing.T) {
	data, out := t.TempDir(), filepath.Join(t.TempDir(), "mosquitto")
	addr := testkit.FreeAddr(t)
	host, port, _ := strings.Cut(addr, ":")
	if _, err := pki.Init(data, pki.Options{Names: []string{host}}); err != nil {
		t.Fatal(err)
	}
	brokerConfig(t, data, out)
	snippetPath := filepath.Join(out, brokerconf.MosquittoConfName)
	snippet, err := os.ReadFile(snippetPath)
	if err != nil {
		t.Fatal(err)
	}
	tlsOn := strings.NewReplacer("# listener 8883\n# use_username_as_clientid", "listener "+port+" "+host+"\nuse_username_as_clientid",
		"# cafile", "cafile", "# certfile", "certfile", "# keyfile", "keyfile", "# tls_version", "tls_version").Replace(string(snippet))
	if !strings.Contains(tlsOn, "certfile "+filepath.Join(data, pki.Dir, pki.ServerCert)) || !strings.Contains(tlsOn, "listener "+port) {
		t.Fatalf("the snippet's TLS lines are not as expected:\n%s", snippet)
	}
	// startMosquitto adds a plain listener of its own; the TLS one is ours.
	if err := os.WriteFile(snippetPath, []byte(tlsOn), 0o644); err != nil {
		t.Fatal(err)
	}
	startMosquitto(t, out)
	serveSubscribed(t, server.Config{DataDir: data, Broker: "tls://" + addr, BrokerCA: filepath.Join(data, pki.Dir, pki.CACert)}, "over TLS")
}

// serveSubscribed runs a hub on cfg (the console on a free port) and waits
// until it has logged in to its broker and subscribed. No enrollment
// listener: on once `hub tls init` has run, its default :8443 may be
// anyone's on the machine running the tests.
func serveSubscribed(t *testing.T, cfg server.Config, how string) *server.Server {
	t.Helper()
	cfg.HTTPListen, cfg.EnrollListen = "127.0.0.1:0", server.Off
	s, err := server.Open(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	select {
	case <-s.Subscribed():
	case <-time.After(testkit.Wait):
		t.Fatalf("the hub did not log in to Mosquitto %s", how)
	}
	return s
}

// --replica gives each replica its two logins on Mosquitto, with the
// hub's password; a name outside the list, or not a replica id, gets
// nothing.
func TestBrokerConfigReplicas(t *testing.T) {
	data, out := t.TempDir(), filepath.Join(t.TempDir(), "mosquitto")
	enrollForTest(t, data, [2]string{"huamu-1", "gate-1"})
	if err := run(t, t.Context(), new(bytes.Buffer), "--data", data, "broker-config", "mosquitto", "--out", out,
		"--replica", "hub/a"); err == nil || !strings.Contains(err.Error(), "replica id") {
		t.Fatalf("--replica hub/a = %v, want refused naming the replica id", err)
	}
	if err := run(t, t.Context(), new(bytes.Buffer), "--data", data, "broker-config", "mosquitto", "--out", out,
		"--replica", "hub-a,hub-b", "--replica", "hub-c"); err != nil {
		t.Fatal(err)
	}
	url, _ := startMosquitto(t, out)
	user, password, err := datadir.Dir{Path: data}.BrokerLogin()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hub-a", "hub-b", "hub-c"} {
		for _, u := range []string{server.ReplicaUser(user, name), server.ReplicaUser(user, name) + link.IngestSuffix} {
			var c paho.Client
			testkit.EventuallyNoError(t, u+" logs in", func() (err error) {
				c, err = mqttLogin(url, u, u, password, nil)
				return err
			})
			c.Disconnect(0)
		}
	}
	if c, err := mqttLogin(url, "x", server.ReplicaUser(user, "hub-d"), password, nil); err == nil {
		c.Disconnect(0)
		t.Error("a replica not given to broker-config logged in")
	}
}
