package e2e

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/enrollment"
	"github.com/gatepost/gatepost/kiosk/identity"
)

// TestLogsHoldNoSecret runs the installer's walkthrough with every
// program logging at debug level, as JSON (--log-format json): a hub with
// TLS, a kiosk enrolled with a code over HTTPS, entries synced, a console
// user added, an API token made and used (and a wrong one refused). Then
// it greps every log line of every program, and what each command wrote
// to its standard error, for each secret: the enrollment code and its
// secret, the kiosk's broker secret, the hub's broker password, the
// console password, the API token, and both private keys.
func TestLogsHoldNoSecret(t *testing.T) {
	h := &hub{dataDir: t.TempDir(), mqttListen: testkit.FreeAddr(t), httpListen: testkit.FreeAddr(t)}
	mqtts, enroll := testkit.FreeAddr(t), testkit.FreeAddr(t)
	var stderr strings.Builder // the commands' standard error
	cmd := func(prog string, stdin string, args ...string) string {
		t.Helper()
		c := exec.Command(filepath.Join(bin, prog), args...)
		c.Stdin = strings.NewReader(stdin)
		var errb strings.Builder
		c.Stderr = &errb
		out, err := c.Output()
		stderr.WriteString(errb.String())
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", prog, args, err, errb.String())
		}
		return string(out)
	}
	const password = "correct-horse-battery-staple-1"
	cmd("hub", password+"\n", "users", "add", "admin", "--admin", "--data", h.dataDir, "--password-stdin")
	host, _, _ := net.SplitHostPort(enroll)
	cmd("hub", "", "tls", "init", "--data", h.dataDir, "--name", host)
	hp := start(t, "hub", "hub ready", "serve", "--data", h.dataDir, "--mqtt-listen", h.mqttListen,
		"--mqtts-listen", mqtts, "--enroll-listen", enroll, "--http-listen", h.httpListen,
		"--debug", "--log-format", "json")
	var code struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal([]byte(cmd("hub", "", "kiosks", "enroll", "--data", h.dataDir, "--site", "site-1",
		"--kiosk", "gate-1", "--hub", enroll, "--json")), &code); err != nil {
		t.Fatal(err)
	}
	g := newGate(t, "tcp://"+testkit.FreeAddr(t))
	cmd("kiosk", "", "enroll", "--config", g.cfgPath, code.Code)
	k := start(t, "kiosk", "kiosk ready", "run", "--config", g.cfgPath, "--debug", "--log-format", "json")
	g.scan(t, 3, 20*time.Millisecond)
	if n := checkExactlyOnce(t, g, h); n != 3 {
		t.Fatalf("hub holds %d entries, want 3", n)
	}
	out := cmd("hub", "", "tokens", "add", "script", "--user", "admin", "--data", h.dataDir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	for _, tok := range []string{token, token + "x"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+h.httpListen+"/ops/api/kiosks", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := tok == token; (resp.StatusCode == http.StatusOK) != want {
			t.Errorf("GET /ops/api/kiosks with token ok=%v: %s", want, resp.Status)
		}
	}
	k.stop(t)
	hp.stop(t)

	secrets := map[string]string{"console password": password, "API token": token, "enrollment code": code.Code}
	// GPE1:HOST:PORT/SECRET/CA
	if parts := strings.Split(code.Code, "/"); len(parts) == 3 {
		secrets["enrollment secret"] = parts[1]
	} else {
		t.Fatalf("enrollment code %q is not GPE1:HOST:PORT/SECRET/CA", code.Code)
	}
	answer, enrolled, err := enrollment.Load(g.dataDir)
	if err != nil || !enrolled {
		t.Fatalf("enrollment.Load = %v, %v", enrolled, err)
	}
	secrets["kiosk broker secret"] = answer.Secret
	_, hubPass, err := datadir.Dir{Path: h.dataDir}.BrokerLogin()
	if err != nil {
		t.Fatal(err)
	}
	secrets["hub broker password"] = hubPass
	key, err := identity.Load(g.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	downlink, err := datadir.Dir{Path: h.dataDir}.DownlinkKey()
	if err != nil {
		t.Fatal(err)
	}
	for name, seed := range map[string][]byte{"kiosk private key": key.Private.Seed(), "hub downlink key": downlink.Seed()} {
		secrets[name+" (hex)"] = hex.EncodeToString(seed)
		secrets[name+" (base64)"] = base64.StdEncoding.EncodeToString(seed)
		secrets[name+" (raw)"] = string(seed)
	}
	// The PEM file's body: what a log of the file would show.
	pemText, err := os.ReadFile(filepath.Join(g.dataDir, identity.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(pemText)), "\n") {
		if !strings.HasPrefix(line, "-----") {
			secrets[fmt.Sprintf("kiosk key file line %d", i)] = line
		}
	}

	logs := map[string]string{"hub serve": hp.output(), "kiosk run": k.output(), "commands": stderr.String()}
	// The flow must have been logged, as JSON, for the grep to prove anything.
	for name, want := range map[string]string{"hub serve": `"level":"DEBUG"`, "kiosk run": `"msg":"hub link up"`} {
		if !strings.Contains(logs[name], want) {
			t.Errorf("%s logged no %s line; the test proves nothing:\n%s", name, want, logs[name])
		}
	}
	if !strings.Contains(logs["hub serve"], "refused an unknown or revoked API token") {
		t.Errorf("hub serve did not log the wrong token's refusal:\n%s", logs["hub serve"])
	}
	for logName, text := range logs {
		for secretName, secret := range secrets {
			if len(secret) < 8 {
				t.Fatalf("%s is %q: too short to grep for", secretName, secret)
			}
			if strings.Contains(text, secret) {
				t.Errorf("the %s log holds the %s", logName, secretName)
			}
		}
	}
}
