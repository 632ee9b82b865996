package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/sdnotify"
	"github.com/gatepost/gatepost/internal/sdnotify/sdnotifytest"
	"github.com/gatepost/gatepost/internal/testkit"
)

// TestSystemdReadyAndWatchdog runs a hub as systemd would: READY=1 once
// storage, the broker link and the console are up, watchdog pings while
// storage answers, none once it stops answering, STOPPING=1 at the end.
func TestSystemdReadyAndWatchdog(t *testing.T) {
	const interval = 600 * time.Millisecond
	sock := sdnotifytest.Listen(t, interval)
	s := open(t, Config{Notify: sdnotify.FromEnv()})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	if m, before := sock.WaitFor("READY=1", deadline); len(before) != 0 {
		t.Fatalf("%s came after %q, want it first", m, before)
	}
	sock.WaitFor("WATCHDOG=1", 5*interval)

	s.store.Close() // storage stops answering
	status, _ := sock.WaitFor("STATUS=unhealthy", 5*interval)
	if !strings.Contains(status, "storage") {
		t.Errorf("status = %q, want it to name storage", status)
	}
	sock.Quiet("WATCHDOG=1", 5*interval/2)

	cancel()
	<-done
	done <- nil
	sock.WaitFor("STOPPING=1", deadline)
}

// TestSystemdNotReadyWithoutBroker: with an external broker not yet
// reachable the hub does not say READY=1; once the broker is up it does.
func TestSystemdNotReadyWithoutBroker(t *testing.T) {
	sock := sdnotifytest.Listen(t, 0)
	addr := testkit.FreeAddr(t)
	s := open(t, Config{Broker: "tcp://" + addr, Notify: sdnotify.FromEnv()})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	if err := s.Ready(t.Context()); err == nil || !strings.Contains(err.Error(), "not connected") {
		t.Errorf("Ready() with the broker down = %v, want not connected", err)
	}
	sock.Quiet("READY=1", time.Second)
}

// GET /readyz, a load balancer's check: 200 with the jobs this hub runs
// while it can take work, 503 naming what is wrong once storage stops
// answering, and nothing an outsider could use (no address, no path).
func TestReadyzForALoadBalancer(t *testing.T) {
	data := t.TempDir()
	s := open(t, Config{DataDir: data})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	get := func() (int, string) {
		resp, err := http.Get(s.ConsoleURL() + "readyz")
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	testkit.Eventually(t, "readyz answers ready", func() bool {
		code, body := get()
		return code == http.StatusOK && strings.HasPrefix(body, "ready\n") && strings.Contains(body, "job alerts: runs here since")
	})

	s.store.Close() // storage stops answering
	code, body := get()
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "not ready: storage\n") {
		t.Errorf("readyz with storage gone = %d %q, want 503 naming storage", code, body)
	}
	if strings.Contains(body, data) || strings.Contains(body, "tcp://") {
		t.Errorf("readyz told anyone %q: no paths or addresses", body)
	}
}
