package brokerconf

import (
	"bytes"
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
	"github.com/gatepost/gatepost/internal/need"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/eclipse/paho%2emqtt%2egolang.(*client).Disconnect.func1"))
}

// A hash that mosquitto_passwd 2.0.11 wrote for "secret": ours must check it.
const passwdVector = "$7$101$+8mf8E1Dy1BYELra$IvSOqhEuPKYCLDnlxJtkLUkWzMaMGPNa/TvQvlwoCsW3ga7DaSD0uXhXh+tDcljc5Afn/nyCxbL2RH+13SC1UQ=="

func TestMosquittoHashMatchesMosquittoPasswd(t *testing.T) {
	if !CheckMosquittoHash(passwdVector, "secret") {
		t.Fatal("CheckMosquittoHash(mosquitto_passwd's hash, its password) = false")
	}
	if CheckMosquittoHash(passwdVector, "Secret") {
		t.Fatal("CheckMosquittoHash accepted the wrong password")
	}
	h, err := MosquittoHash("s3cret")
	if err != nil || !CheckMosquittoHash(h, "s3cret") || CheckMosquittoHash(h, "s3cre") {
		t.Fatalf("MosquittoHash round trip: %q, %v", h, err)
	}
	h2, _ := MosquittoHash("s3cret")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not fresh")
	}
	for _, bad := range []string{"", "$6$x$y", "$7$abc$AAAA$BBBB", "$7$0$AAAA$BBBB", "$7$101$!!$BBBB", "$7$101$AAAA"} {
		if CheckMosquittoHash(bad, "secret") {
			t.Errorf("CheckMosquittoHash(%q) = true", bad)
		}
	}
}

func TestFilesRefuseBadAccounts(t *testing.T) {
	good, _ := MosquittoHash("x")
	for _, a := range []Account{
		{Site: "huamu-1", Kiosk: "gate-1", Username: "huamu-1/gate-1", Hash: "plain"},
		{Site: "huamu-1", Kiosk: "gate-1", Username: "huamu-1/gate-2", Hash: good},
		{Site: "huamu 1", Kiosk: "gate-1", Username: "huamu 1/gate-1", Hash: good},
		{Hub: true, Username: "hub:1", Hash: good},
		{Hub: true, Username: "#", Hash: good},
	} {
		if err := WritePasswordFile(new(bytes.Buffer), []Account{a}); err == nil {
			t.Errorf("WritePasswordFile(%+v) = nil, want an error", a)
		}
		if err := WriteACL(new(bytes.Buffer), []Account{a}); err == nil {
			t.Errorf("WriteACL(%+v) = nil, want an error", a)
		}
	}
}

// TestMosquittoEnforcesTheFiles runs a real Mosquitto with the files we
// write and tries, as a stranger and as one kiosk, what must be refused.
func TestMosquittoEnforcesTheFiles(t *testing.T) {
	bin := need.Program(t, "mosquitto", "mosquitto")
	accounts, secrets := testAccounts(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "password_file"), func(b *bytes.Buffer) error { return WritePasswordFile(b, accounts) })
	writeFile(t, filepath.Join(dir, "acl_file"), func(b *bytes.Buffer) error { return WriteACL(b, accounts) })
	addr := testkit.FreeAddr(t)
	conf0 := ""
	host, port, _ := strings.Cut(addr, ":")
	// As root, Mosquitto drops to the "mosquitto" user, who cannot read the
	// test's files: tell it to stay who it is.
	if me, err := user.Current(); err == nil {
		conf0 = "user " + me.Username + "\n"
	}
	conf := conf0 + fmt.Sprintf("listener %s %s\nallow_anonymous false\npassword_file %s\nacl_file %s\nuse_username_as_clientid true\npersistence false\n",
		port, host, filepath.Join(dir, "password_file"), filepath.Join(dir, "acl_file"))
	writeFile(t, filepath.Join(dir, "mosquitto.conf"), func(b *bytes.Buffer) error { _, err := b.WriteString(conf); return err })
	cmd := exec.Command(bin, "-c", filepath.Join(dir, "mosquitto.conf"))
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
	url := "tcp://" + addr

	var hub paho.Client
	testkit.EventuallyNoError(t, "the hub logs in to mosquitto", func() (err error) {
		hub, err = connect(url, "hub", secrets["hub"])
		return err
	})
	defer hub.Disconnect(0)
	got := make(chan string, 16)
	sub := hub.Subscribe(protocol.TopicRoot+"/+/+/+", 1, func(_ paho.Client, m paho.Message) { got <- m.Topic() + " " + string(m.Payload()) })
	if !sub.WaitTimeout(5*time.Second) || sub.Error() != nil {
		t.Fatalf("hub subscribe: %v", sub.Error())
	}

	if _, err := connect(url, "", ""); err == nil {
		t.Error("an anonymous client was let in")
	}
	if _, err := connect(url, "huamu-1/gate-1", "wrong"); err == nil {
		t.Error("a wrong password was let in")
	}

	k1, err := connect(url, "huamu-1/gate-1", secrets["huamu-1/gate-1"])
	if err != nil {
		t.Fatalf("kiosk login: %v\n%s", err, logs.String())
	}
	defer k1.Disconnect(0)
	// Forged: as gate-2 and as another site. Mosquitto drops them silently;
	// the marker published after them proves they were not merely late.
	for _, topic := range []string{protocol.EntriesTopic("huamu-1", "gate-2"), protocol.EntriesTopic("huamu-2", "gate-1"),
		protocol.AckTopic("huamu-1", "gate-1"), protocol.DownlinkTopic("huamu-1", "", protocol.DownlinkConfig)} {
		k1.Publish(topic, 1, false, "forged").WaitTimeout(5 * time.Second)
	}
	k1.Publish(protocol.EntriesTopic("huamu-1", "gate-1"), 1, false, "mine").WaitTimeout(5 * time.Second)
	select {
	case m := <-got:
		if m != protocol.EntriesTopic("huamu-1", "gate-1")+" mine" {
			t.Fatalf("the hub received %q first, want only the kiosk's own entries", m)
		}
	case <-time.After(testkit.Wait):
		t.Fatal("the kiosk's own entries never reached the hub")
	}

	// Reading: its site's and its own downlinks and its ack, nothing else.
	mine := make(chan string, 16)
	for _, f := range append(protocol.DownlinkSubscriptions("huamu-1", "gate-1"), protocol.AckTopic("huamu-1", "gate-1"),
		protocol.AckTopic("huamu-1", "gate-2"), protocol.EntriesTopic("huamu-1", "gate-2")) {
		k1.Subscribe(f, 1, func(_ paho.Client, m paho.Message) { mine <- m.Topic() }).WaitTimeout(5 * time.Second)
	}
	for _, topic := range []string{protocol.AckTopic("huamu-1", "gate-2"), protocol.EntriesTopic("huamu-1", "gate-2"),
		protocol.DownlinkTopic("huamu-2", "", protocol.DownlinkConfig),
		protocol.DownlinkTopic("huamu-1", "", protocol.DownlinkConfig), protocol.DownlinkTopic("huamu-1", "gate-1", protocol.DownlinkKeys),
		protocol.AckTopic("huamu-1", "gate-1")} {
		hub.Publish(topic, 1, false, "x").WaitTimeout(5 * time.Second)
	}
	want := []string{protocol.DownlinkTopic("huamu-1", "", protocol.DownlinkConfig),
		protocol.DownlinkTopic("huamu-1", "gate-1", protocol.DownlinkKeys), protocol.AckTopic("huamu-1", "gate-1")}
	for _, w := range want {
		select {
		case m := <-mine:
			if m != w {
				t.Fatalf("the kiosk read %q, want %q (nothing of another kiosk)", m, w)
			}
		case <-time.After(testkit.Wait):
			t.Fatalf("the kiosk never read %q", w)
		}
	}
}

func testAccounts(t *testing.T) ([]Account, map[string]string) {
	t.Helper()
	secrets := map[string]string{}
	var accounts []Account
	add := func(a Account) {
		secrets[a.Username] = "pw-" + a.Username
		h, err := MosquittoHash(secrets[a.Username])
		if err != nil {
			t.Fatal(err)
		}
		a.Hash = h
		accounts = append(accounts, a)
	}
	add(Account{Hub: true, Username: "hub"})
	for _, sk := range [][2]string{{"huamu-1", "gate-1"}, {"huamu-1", "gate-2"}, {"huamu-2", "gate-1"}} {
		add(Account{Site: sk[0], Kiosk: sk[1], Username: KioskUsername(sk[0], sk[1])})
	}
	return accounts, secrets
}

func writeFile(t *testing.T, path string, fill func(*bytes.Buffer) error) {
	t.Helper()
	var b bytes.Buffer
	if err := fill(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func connect(url, user, password string) (paho.Client, error) {
	o := paho.NewClientOptions().AddBroker(url).SetUsername(user).SetPassword(password).
		SetClientID(user).SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(5 * time.Second)
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, errors.New("connect timed out")
	}
	return c, tok.Error()
}

// WriteMosquitto writes the three files with their modes whatever the
// umask, leaves no temporary file behind, and a file replaced keeps its
// owner so that Mosquitto, running as its own user, can still read it.
func TestWriteMosquittoFiles(t *testing.T) {
	accounts, _ := testAccounts(t)
	dir := filepath.Join(t.TempDir(), "mosquitto")
	if err := WriteMosquitto(dir, accounts, &MosquittoTLS{CAFile: "/d/tls/ca.crt", CertFile: "/d/tls/server.crt", KeyFile: "/d/tls/server.key"}); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{PasswordFileName: 0o600, ACLFileName: 0o644, MosquittoConfName: 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, %v; want mode %v", name, fi.Mode().Perm(), err, mode)
		}
	}
	conf, _ := os.ReadFile(filepath.Join(dir, MosquittoConfName))
	for _, want := range []string{"per_listener_settings false\n", "allow_anonymous false\n",
		"# listener 8883\n# use_username_as_clientid true\n", "# listener 1883 127.0.0.1\n# use_username_as_clientid true\n",
		"password_file " + filepath.Join(dir, PasswordFileName) + "\n", "acl_file " + filepath.Join(dir, ACLFileName) + "\n",
		"# certfile /d/tls/server.crt\n", "# listener 8883\n"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("mosquitto.conf lacks %q:\n%s", want, conf)
		}
	}
	if os.Geteuid() == 0 {
		// As root, hand the file to another user, as an operator would
		// to Mosquitto's: the next run keeps that owner.
		if err := os.Chown(filepath.Join(dir, PasswordFileName), 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := WriteMosquitto(dir, accounts[:2], nil); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(filepath.Join(dir, PasswordFileName))
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 || st.Gid != 65534 {
			t.Errorf("the new password_file is owned by %d:%d, want the old file's 65534:65534", st.Uid, st.Gid)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("the folder holds %d files, want 3 (no temporary left)", len(entries))
	}
	// A bad account writes nothing: the files in force stay whole.
	before, _ := os.ReadFile(filepath.Join(dir, PasswordFileName))
	if err := WriteMosquitto(dir, append(accounts, Account{Username: "a:b", Hash: "$7$x"}), nil); err == nil {
		t.Fatal("WriteMosquitto with a bad account = nil error")
	}
	if after, _ := os.ReadFile(filepath.Join(dir, PasswordFileName)); !bytes.Equal(before, after) {
		t.Error("a refused run changed password_file")
	}
}
