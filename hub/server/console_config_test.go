package server

import (
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// consoleAdmin signs in to s's console as a new admin and returns a
// client holding the session, and the session's CSRF token.
func consoleAdmin(t *testing.T, s *Server) (*http.Client, string) {
	t.Helper()
	if err := s.console.OperatorStore().AddUser(t.Context(), "admin", "admin password 1", true); err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf := func(path string) string {
		resp, err := c.Get(s.ConsoleURL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		m := regexp.MustCompile(`name="csrf" value="([0-9a-f]{64})"`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("GET %s: %d, no csrf field", path, resp.StatusCode)
		}
		return string(m[1])
	}
	resp, err := c.PostForm(s.ConsoleURL()+"ops/signin", url.Values{"csrf": {csrf("ops/signin")},
		"user": {"admin"}, "password": {"admin password 1"}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %v %v", resp, err)
	}
	resp.Body.Close()
	return c, csrf("ops/kiosks")
}

func getBody(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// The console's kiosk page publishes over the hub's own MQTT link: a
// kiosk subscribing afterwards finds the retained config, one version
// above what `hub push` (the same hub/downlink.Issue) published before.
func TestConsolePublishesConfig(t *testing.T) {
	s := open(t, Config{})
	ctx := t.Context()
	if _, err := s.store.SaveStatus(ctx, protocol.Status{Kiosk: kiosk, Site: site, Online: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if d, err := s.PublishDownlink(ctx, site, "", protocol.DownlinkConfig, json.RawMessage(`{"fever_c":37.5}`)); err != nil || d.Version != 1 {
		t.Fatalf("PublishDownlink = v%d, %v", d.Version, err)
	}
	c, token := consoleAdmin(t, s)
	if body := getBody(t, c, s.ConsoleURL()+"ops/kiosks"); strings.Contains(body, "not-connected") || strings.Contains(body, "cannot-publish") ||
		!strings.Contains(body, `<strong class="published">v1</strong> · fever_c 37.5 °C`) {
		t.Fatalf("kiosks page before publishing:\n%s", body)
	}
	resp, err := c.PostForm(s.ConsoleURL()+"ops/kiosks", url.Values{"csrf": {token}, "site": {site}, "fever_c": {"37.2"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ops/kiosks?published=2&site="+site {
		t.Fatalf("publish from the console = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	got := make(chan protocol.Downlink, 4)
	k := paho.NewClient(asKiosk(t, s, s.BrokerURL()))
	if tok := k.Connect(); !tok.WaitTimeout(deadline) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer k.Disconnect(0)
	tok := k.Subscribe(protocol.DownlinkTopic(site, "", protocol.DownlinkConfig), 1, func(_ paho.Client, m paho.Message) {
		if d, err := protocol.OpenDownlink(m.Payload(), s.downlinkKey.Public().(ed25519.PublicKey)); err == nil && m.Retained() {
			got <- d
		}
	})
	if !tok.WaitTimeout(deadline) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	select {
	case d := <-got:
		if d.Kind != protocol.DownlinkConfig || d.Version != 2 || string(d.Payload) != `{"fever_c":37.2}` {
			t.Errorf("retained config = %+v %s, want version 2 with fever_c 37.2", d, d.Payload)
		}
	case <-time.After(deadline):
		t.Fatal("no retained config within the deadline")
	}
}

// With the broker unreachable the kiosk page says so, and a config
// published from it is stored, said to be, and sent once the broker is up.
func TestConsoleConfigWhileBrokerAway(t *testing.T) {
	s := open(t, Config{Broker: "tcp://" + testkit.FreeAddr(t)})
	if _, err := s.store.SaveStatus(t.Context(), protocol.Status{Kiosk: kiosk, Site: site, Online: false}, time.Now()); err != nil {
		t.Fatal(err)
	}
	c, token := consoleAdmin(t, s)
	if body := getBody(t, c, s.ConsoleURL()+"ops/kiosks"); !strings.Contains(body, `id="not-connected"`) {
		t.Errorf("kiosks page with the broker away does not say so")
	}
	resp, err := c.PostForm(s.ConsoleURL()+"ops/kiosks", url.Values{"csrf": {token}, "site": {site}, "fever_c": {"37.2"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ops/kiosks?stored=1&site="+site {
		t.Errorf("publish with the broker away = %d %s, want stored=1", resp.StatusCode, resp.Header.Get("Location"))
	}
	// (The pass feed may have stored a status list for the site as well.)
	ds, _ := s.store.Downlinks(t.Context())
	var configs []protocol.Downlink
	for _, d := range ds {
		if d.Kind == protocol.DownlinkConfig {
			configs = append(configs, d)
		}
	}
	if len(configs) != 1 || configs[0].Version != 1 || string(configs[0].Payload) != `{"fever_c":37.2}` {
		t.Errorf("stored configs = %+v, want version 1 kept for the reconnect", configs)
	}
}
