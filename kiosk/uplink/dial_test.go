package uplink

import (
	"context"
	"net"
	"net/url"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// The back-off doubles from min to max, each wait jittered within
// [bound/2, bound], and a session resets it.
func TestDialerBackoffWithJitter(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every dial fails fast
	var waits []time.Duration
	d := &dialer{ctx: context.Background(), timeout: time.Second, min: 100 * time.Millisecond, max: time.Second,
		sleep: func(_ context.Context, w time.Duration) error { waits = append(waits, w); return nil }}
	uri := &url.URL{Scheme: "tcp", Host: addr}
	for i := 0; i < 7; i++ {
		if c, err := d.open(uri, mqtt.ClientOptions{}); err == nil {
			c.Close()
			t.Fatal("dial to a closed port succeeded")
		}
	}
	bounds := []time.Duration{100, 200, 400, 800, 1000, 1000}
	if len(waits) != len(bounds) {
		t.Fatalf("waits = %v, want %d (none before the first attempt)", waits, len(bounds))
	}
	for i, b := range bounds {
		b *= time.Millisecond
		if waits[i] < b/2 || waits[i] > b {
			t.Errorf("wait %d = %v, want within [%v, %v]", i, waits[i], b/2, b)
		}
	}
	d.reset()
	waits = nil
	d.open(uri, mqtt.ClientOptions{})
	if len(waits) != 0 {
		t.Errorf("after reset the first attempt waited %v, want at once", waits)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d2 := &dialer{ctx: ctx, timeout: time.Second, min: time.Hour, max: time.Hour, delay: time.Hour}
	if _, err := d2.open(uri, mqtt.ClientOptions{}); err == nil {
		t.Error("open with a cancelled context and an hour's back-off returned no error")
	}
}
