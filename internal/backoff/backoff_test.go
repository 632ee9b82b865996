package backoff

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNextDoublesWithinJitterAndResets(t *testing.T) {
	b := &Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	for i, bound := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		bound *= time.Millisecond
		if d := b.Next(); d < bound/2 || d > bound {
			t.Fatalf("wait %d = %v, want within [%v, %v]", i, d, bound/2, bound)
		}
	}
	b.Reset()
	if d := b.Next(); d > 100*time.Millisecond {
		t.Fatalf("after Reset, wait = %v, want at most Min", d)
	}
}

func TestWaitFollowsTheClockAndTheContext(t *testing.T) {
	c := clock.NewFake(time.Time{})
	b := &Backoff{Min: time.Second, Max: time.Second, Clock: c}
	done := make(chan error, 1)
	go func() { done <- b.Wait(context.Background()) }()
	c.BlockUntil(1)
	c.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatalf("Wait = %v after the clock passed the wait", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- b.Wait(ctx) }()
	c.BlockUntil(1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v after cancel, want context.Canceled", err)
	}
}

func TestInClear(t *testing.T) {
	for url, want := range map[string]bool{
		"tcp://127.0.0.1:1883":     false,
		"tcp://localhost:1883":     false,
		"mqtt://[::1]:1883":        false,
		"tls://hub.example:8883":   false,
		"ssl://10.0.0.2:8883":      false,
		"tcp://10.0.0.2:1883":      true,
		"tcp://hub.example:1883":   true,
		"mqtt://0.0.0.0:1883":      true,
		"tcp://127.0.0.1.nip.io:1": true,
	} {
		if got := InClear(url); got != want {
			t.Errorf("InClear(%q) = %v, want %v", url, got, want)
		}
	}
}
