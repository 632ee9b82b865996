package broker

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const wait = 5 * time.Second

func start(tb testing.TB, listen string) *Broker {
	tb.Helper()
	b, err := Start(tb.Context(), Config{Listen: listen})
	if err != nil {
		tb.Fatalf("Start(%q): %v", listen, err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}

// connect returns a connected paho client that disconnects at the end.
func connect(tb testing.TB, url, id string) paho.Client {
	tb.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(id).
		SetAutoReconnect(false).SetConnectTimeout(wait))
	tok := c.Connect()
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		tb.Fatalf("connect %s to %s: timed out or %v", id, url, tok.Error())
	}
	tb.Cleanup(func() { c.Disconnect(250) })
	return c
}

func TestStartReportsBoundAddress(t *testing.T) {
	t.Parallel()
	for _, listen := range []string{"127.0.0.1:0", ":0"} {
		b := start(t, listen)
		host, port, err := net.SplitHostPort(b.Addr())
		if err != nil || port == "0" {
			t.Errorf("Start(%q).Addr() = %q, want a bound port", listen, b.Addr())
		}
		want := fmt.Sprintf("tcp://127.0.0.1:%s", port)
		if b.URL() != want {
			t.Errorf("Start(%q).URL() = %q (host %q), want %q", listen, b.URL(), host, want)
		}
	}
}

func TestRetainedMessageReachesLateSubscriber(t *testing.T) {
	t.Parallel()
	b := start(t, "127.0.0.1:0")
	pub := connect(t, b.URL(), "pub")
	tok := pub.Publish("gatepost/v1/s/k/ack", 1, true, []byte("hello"))
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("publish: timed out or %v", tok.Error())
	}

	got := make(chan string, 1)
	sub := connect(t, b.URL(), "sub")
	tok = sub.Subscribe("gatepost/v1/+/+/ack", 1, func(_ paho.Client, m paho.Message) {
		got <- fmt.Sprintf("%s %s retained=%v", m.Topic(), m.Payload(), m.Retained())
	})
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("subscribe: timed out or %v", tok.Error())
	}
	select {
	case msg := <-got:
		if want := "gatepost/v1/s/k/ack hello retained=true"; msg != want {
			t.Errorf("received %q, want %q", msg, want)
		}
	case <-time.After(wait):
		t.Fatal("no retained message within 5s")
	}
}

func TestCloseStopsListening(t *testing.T) {
	t.Parallel()
	b := start(t, "127.0.0.1:0")
	connect(t, b.URL(), "c1")
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", b.Addr(), wait); err == nil {
		conn.Close()
		t.Errorf("dial %s after Close succeeded, want refused", b.Addr())
	}
}

func TestStartFailsOnBusyPort(t *testing.T) {
	t.Parallel()
	b := start(t, "127.0.0.1:0")
	_, err := Start(t.Context(), Config{Listen: b.Addr()})
	if err == nil || !strings.Contains(err.Error(), "start broker") {
		t.Errorf("Start(busy %s) = %v, want a start broker error", b.Addr(), err)
	}
}
