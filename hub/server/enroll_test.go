package server

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gatepost/gatepost/hub/enroll"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/protocol"
)

// A hub after `hub tls init` serves MQTT over TLS and HTTPS enrollment,
// and no plain MQTT: a kiosk redeems a code over HTTPS pinning the CA,
// logs in over TLS with what it was given, and its batch is acked; the
// code works once.
func TestEnrollOverHTTPSThenSyncOverTLS(t *testing.T) {
	dir := t.TempDir()
	files, err := pki.Init(dir, pki.Options{Names: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	s := open(t, Config{DataDir: dir, MQTTListen: Off, MQTTSListen: "127.0.0.1:0", EnrollListen: "127.0.0.1:0"})
	if !strings.HasPrefix(s.BrokerURL(), "tls://127.0.0.1:") || s.EnrollAddr() == "" {
		t.Fatalf("BrokerURL %q, EnrollAddr %q", s.BrokerURL(), s.EnrollAddr())
	}
	code, _, err := enroll.NewCode(t.Context(), s.access.registry, files, s.EnrollAddr(), site, kiosk, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	req, err := protocol.EncodeEnrollRequest(protocol.EnrollRequest{Secret: code.Secret, Site: site, Kiosk: kiosk, Time: time.Now()}, kioskPriv)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := pki.ClientConfig(files.CAPEM())
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: deadline}
	redeem := func() (*http.Response, []byte) {
		resp, err := client.Post("https://"+code.Hub+enroll.Path, "application/json", bytes.NewReader(req))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	resp, body := redeem()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("enroll: %s %s", resp.Status, body)
	}
	var a protocol.EnrollAnswer
	if err := json.Unmarshal(body, &a); err != nil || a.Validate() != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	if a.Broker != s.BrokerURL() || a.DownlinkKey != protocol.PublicKeyText(s.downlinkKey.Public().(ed25519.PublicKey)) {
		t.Errorf("answer names broker %q (want %q) and downlink key %q", a.Broker, s.BrokerURL(), a.DownlinkKey)
	}
	if resp, body := redeem(); resp.StatusCode == http.StatusOK {
		t.Fatalf("the code worked twice: %s", body)
	}

	k := &kioskClient{acks: make(chan received, 16)}
	k.c = paho.NewClient(paho.NewClientOptions().AddBroker(a.Broker).SetClientID(a.Username).SetUsername(a.Username).
		SetPassword(a.Secret).SetTLSConfig(tc).SetAutoReconnect(false).SetConnectTimeout(deadline))
	if tok := k.c.Connect(); !tok.WaitTimeout(deadline) || tok.Error() != nil {
		t.Fatalf("the enrolled kiosk over TLS: %v", tok.Error())
	}
	defer k.c.Disconnect(0)
	if tok := k.c.Subscribe(protocol.AckTopic(site, kiosk), 1, func(_ paho.Client, m paho.Message) {
		if ack, err := protocol.DecodeAck(m.Payload()); err == nil {
			k.acks <- received{ack, m.Retained()}
		}
	}); !tok.WaitTimeout(deadline) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	k.publish(t, batch(t, 2))
	if got := k.nextAck(t); got.ack.Contiguous != 2 {
		t.Fatalf("ack over TLS = %+v", got.ack)
	}
}
