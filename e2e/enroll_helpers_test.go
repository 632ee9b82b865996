package e2e

import (
	"crypto/ed25519"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/enrollment"
	"github.com/gatepost/gatepost/kiosk/identity"
	"github.com/gatepost/gatepost/protocol"
)

// kioskIdentity is what `kiosk identity --json` prints.
type kioskIdentity struct {
	Kiosk       string `json:"kiosk"`
	Site        string `json:"site"`
	Fingerprint string `json:"fingerprint"`
	PublicKey   string `json:"public_key"`
}

// enrollKiosk enrolls the kiosk of cfgPath at the hub whose data folder is
// hubData the way an installer does with no link at install time: the
// kiosk's identity, `hub kiosks add` sealing its login to its key, and
// `kiosk enroll --file`. broker is the URL the kiosk is told to use. A hub
// in front of Mosquitto (h.mosq) has the broker's files rewritten and
// reloaded, as the installer's walkthrough says.
func (h *hub) enrollKiosk(t *testing.T, cfgPath, broker string) kioskIdentity {
	t.Helper()
	var id kioskIdentity
	runJSON(t, &id, "kiosk", "identity", "--json", "--config", cfgPath)
	file := filepath.Join(t.TempDir(), id.Kiosk+".enroll")
	run(t, "hub", "kiosks", "add", "--data", h.dataDir, "--site", id.Site, "--kiosk", id.Kiosk,
		"--public-key", id.PublicKey, "--broker", broker, "--out", file)
	run(t, "kiosk", "enroll", "--config", cfgPath, "--file", file)
	if h.mosq != nil {
		h.mosq.reload(t, h.dataDir)
	}
	return id
}

// closeMosquitto makes m admit only what the hub's registry allows: the
// files `hub broker-config mosquitto` writes, in force before any client
// connects.
func (m *mosquittoProc) closeFor(t *testing.T, hubData string) {
	t.Helper()
	dir := filepath.Join(filepath.Dir(m.conf), "access")
	args := []string{"broker-config", "mosquitto", "--data", hubData, "--out", dir}
	for _, id := range m.replicas {
		args = append(args, "--replica", id)
	}
	run(t, "hub", args...)
	host, port, err := net.SplitHostPort(m.addr)
	if err != nil {
		t.Fatal(err)
	}
	conf := "per_listener_settings false\nallow_anonymous false\npersistence false\n" +
		"listener " + port + " " + host + "\n" +
		"use_username_as_clientid true\n" +
		"password_file " + filepath.Join(dir, "password_file") + "\n" +
		"acl_file " + filepath.Join(dir, "acl_file") + "\n"
	if tlsDir := filepath.Join(hubData, "tls"); fileExists(filepath.Join(tlsDir, "ca.crt")) {
		// TLS on the same port, with the hub's certificate (`hub tls init`).
		conf += "cafile " + filepath.Join(tlsDir, "ca.crt") + "\ncertfile " + filepath.Join(tlsDir, "server.crt") +
			"\nkeyfile " + filepath.Join(tlsDir, "server.key") + "\n"
		m.url = "tls://" + m.addr
	}
	if os.Geteuid() == 0 {
		conf += "user root\n" // Mosquitto drops to "mosquitto", which cannot read a test's temp files
	}
	if err := os.WriteFile(m.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
}

// reload rewrites the broker's files from the registry and has Mosquitto
// read them again (SIGHUP), as `systemctl reload mosquitto` does.
func (m *mosquittoProc) reload(t *testing.T, hubData string) {
	t.Helper()
	m.closeFor(t, hubData)
	before := m.reloads(t)
	if err := m.p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testkit.EventuallyWithin(t, 10*time.Second, "mosquitto reloaded its files", func() bool { return m.reloads(t) > before })
}

// reloads counts the reloads in Mosquitto's log.
func (m *mosquittoProc) reloads(t *testing.T) int {
	data, _ := os.ReadFile(filepath.Join(filepath.Dir(m.conf), "mosquitto.log"))
	n := 0
	for i := 0; i+len("Reloading config") <= len(data); i++ {
		if string(data[i:i+len("Reloading config")]) == "Reloading config" {
			n++
		}
	}
	return n
}

// kioskLogin enrolls site/kiosk at the hub with a key made here, as
// `hub kiosks add` does for a real kiosk, and opens the file with that key:
// the broker login a test plays that kiosk (or a stolen one) with.
func (h *hub) kioskLogin(t *testing.T, site, kiosk, broker string) protocol.EnrollAnswer {
	t.Helper()
	a, _ := h.kioskLoginWithKey(t, site, kiosk, broker)
	return a
}

// kioskLoginWithKey is kioskLogin that also returns the kiosk's key, with
// which its batches are signed: a stolen device, not just its login.
func (h *hub) kioskLoginWithKey(t *testing.T, site, kiosk, broker string) (protocol.EnrollAnswer, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), kiosk+".enroll")
	run(t, "hub", "kiosks", "add", "--data", h.dataDir, "--site", site, "--kiosk", kiosk,
		"--public-key", protocol.PublicKeyText(pub), "--broker", broker, "--out", file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	a, err := protocol.OpenEnrollFile(data, priv)
	if err != nil {
		t.Fatal(err)
	}
	if h.mosq != nil {
		h.mosq.reload(t, h.dataDir)
	}
	return a, priv
}

// hubLogin is the hub's own broker account under the name its commands
// use (datadir.HubCLIUser), read from its data folder as `hub push` does:
// a test's observer, or a stolen hub password. `hub serve`'s own name
// would take its session over on a broker that binds client ids to names.
func (h *hub) hubLogin(t *testing.T) (user, password string) {
	t.Helper()
	_, password, err := datadir.Dir{Path: h.dataDir}.BrokerLogin()
	if err != nil {
		t.Fatal(err)
	}
	return datadir.HubCLIUser, password
}

// enrollAt is enrollKiosk for a test that holds only the hub's data folder.
func enrollAt(t *testing.T, hubData, cfgPath, broker string) kioskIdentity {
	t.Helper()
	return (&hub{dataDir: hubData}).enrollKiosk(t, cfgPath, broker)
}

// enrollScreenGate enrolls an in-process kiosk at the hub as `kiosk
// enroll --file` does: its key made in its data folder, `hub kiosks add`
// with the public half, the sealed file opened with the private half and
// saved.
func (h *hub) enrollScreenGate(t *testing.T, g *screenGate, broker string) {
	t.Helper()
	key, _, err := identity.LoadOrCreate(g.cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "screen.enroll")
	run(t, "hub", "kiosks", "add", "--data", h.dataDir, "--site", g.cfg.Site, "--kiosk", g.cfg.Kiosk,
		"--public-key", protocol.PublicKeyText(key.Public), "--broker", broker, "--out", file)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	a, err := protocol.OpenEnrollFile(data, key.Private)
	if err != nil {
		t.Fatal(err)
	}
	if err := enrollment.Save(g.cfg.DataDir, a); err != nil {
		t.Fatal(err)
	}
}

func fileExists(path string) bool { _, err := os.Stat(path); return err == nil }
