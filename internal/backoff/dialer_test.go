package backoff

import (
	"context"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
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
	clk := clock.NewFake(time.Time{})
	d := &Dialer{Ctx: context.Background(), Timeout: time.Second,
		Backoff: &Backoff{Min: 100 * time.Millisecond, Max: time.Second, Clock: clk}}
	uri := &url.URL{Scheme: "tcp", Host: addr}
	open := func() <-chan error {
		done := make(chan error, 1)
		go func() {
			c, err := d.Dial(uri)
			if err == nil {
				c.Close()
			}
			done <- err
		}()
		return done
	}
	if err := <-open(); err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
	for i, b := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		b *= time.Millisecond
		done := open()
		clk.BlockUntil(1) // the dialer waits on the clock
		clk.Advance(b/2 - time.Nanosecond)
		if clk.Waiters() != 1 {
			t.Fatalf("wait %d ended before %v, want within [%v, %v]", i, b/2, b/2, b)
		}
		clk.Advance(b/2 + time.Nanosecond)
		if clk.Waiters() != 0 {
			t.Fatalf("wait %d lasted beyond %v", i, b)
		}
		if err := <-done; err == nil {
			t.Fatal("dial to a closed port succeeded")
		}
	}
	d.Reset()
	if err := <-open(); err == nil || clk.Waiters() != 0 {
		t.Errorf("after reset: err %v, waiters %d; want a failed dial at once", err, clk.Waiters())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d2 := &Dialer{Ctx: ctx, Timeout: time.Second, wait: true, Backoff: &Backoff{Min: time.Hour, Max: time.Hour, Clock: clk}}
	if _, err := d2.Dial(uri); err == nil {
		t.Error("open with a cancelled context and an hour's back-off returned no error")
	}
}
