package sdnotify

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// listen plays systemd: a datagram socket at NOTIFY_SOCKET.
func listen(t *testing.T) (*net.UnixConn, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, path
}

func read(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	return string(buf[:n])
}

func TestReadyAndWatchdogPingsOnlyWhileAlive(t *testing.T) {
	sock, path := listen(t)
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", "40000") // 40 ms: pings every 20 ms
	t.Setenv("WATCHDOG_PID", "")
	n := FromEnv()
	if !n.Enabled() || n.WatchdogInterval() != 40*time.Millisecond {
		t.Fatalf("FromEnv = %+v", n)
	}
	if err := n.Ready(); err != nil {
		t.Fatal(err)
	}
	if got := read(t, sock); got != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	var wedged atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- n.Watchdog(ctx, func() error {
			if wedged.Load() {
				return errors.New("journal writer stuck")
			}
			return nil
		})
	}()
	for range 3 {
		if got := read(t, sock); got != "WATCHDOG=1" {
			t.Fatalf("while alive got %q, want WATCHDOG=1", got)
		}
	}
	wedged.Store(true)
	// Pings in flight before the wedge may still arrive; then only status
	// lines, never a ping.
	for seen := 0; seen < 3; {
		got := read(t, sock)
		if strings.HasPrefix(got, "STATUS=unhealthy: journal writer stuck") {
			seen++
			continue
		}
		if seen > 0 && got == "WATCHDOG=1" {
			t.Fatal("a ping after the service reported itself wedged")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestNothingWithoutSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	n := FromEnv()
	if n.Enabled() || n.Ready() != nil || n.Watchdog(context.Background(), func() error { return nil }) != nil {
		t.Fatal("without NOTIFY_SOCKET every call must do nothing")
	}
	t.Setenv("NOTIFY_SOCKET", "/x")
	t.Setenv("WATCHDOG_USEC", "1000")
	t.Setenv("WATCHDOG_PID", "1") // the watchdog is meant for another process
	if FromEnv().WatchdogInterval() != 0 {
		t.Fatal("a watchdog for another pid was taken as ours")
	}
}
