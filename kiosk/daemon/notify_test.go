package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/internal/sdnotify"
	"github.com/gatepost/gatepost/kiosk/journal"
)

// notifySocket listens as systemd would, on a unixgram socket named by
// NOTIFY_SOCKET, with the watchdog interval in WATCHDOG_USEC.
type notifySocket struct {
	t    *testing.T
	conn *net.UnixConn
}

func listenNotify(t *testing.T, watchdog time.Duration) *notifySocket {
	t.Helper()
	dir, err := os.MkdirTemp("", "sdn") // short: a socket path has at most 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", fmt.Sprint(watchdog.Microseconds()))
	t.Setenv("WATCHDOG_PID", "")
	return &notifySocket{t: t, conn: conn}
}

// next returns the next notification, or "" if none came within wait.
func (s *notifySocket) next(wait time.Duration) string {
	s.t.Helper()
	buf := make([]byte, 4096)
	s.conn.SetReadDeadline(time.Now().Add(wait))
	n, err := s.conn.Read(buf)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ""
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return string(buf[:n])
}

// waitFor reads notifications until one starts with prefix, failing
// after wait; it returns it and those read before it.
func (s *notifySocket) waitFor(prefix string, wait time.Duration) (string, []string) {
	s.t.Helper()
	deadline := time.Now().Add(wait)
	var before []string
	for time.Now().Before(deadline) {
		m := s.next(time.Until(deadline))
		if strings.HasPrefix(m, prefix) {
			return m, before
		}
		if m != "" {
			before = append(before, m)
		}
	}
	s.t.Fatalf("no %q notification within %v; got %q", prefix, wait, before)
	return "", nil
}

// TestWatchdogStopsWhenWriterWedged runs a kiosk on simulated devices as
// systemd would (NOTIFY_SOCKET, WATCHDOG_USEC): it says READY=1 and pings
// the watchdog; once its journal writer is wedged the pings stop (systemd
// would restart it); once the writer moves again they resume; on the way
// out it says STOPPING=1.
func TestWatchdogStopsWhenWriterWedged(t *testing.T) {
	const interval = 600 * time.Millisecond
	sock := listenNotify(t, interval)
	_, sc, cfg := simGate(t, sim.GYMCU90614)

	var wedge atomic.Pointer[chan struct{}]
	d, err := open(cfg, slog.New(slog.DiscardHandler), journal.Options{InWrite: func() {
		if ch := wedge.Load(); ch != nil {
			<-*ch
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	d.Notify = sdnotify.FromEnv()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { // if the test fails midway
		cancel()
		<-done
	}()

	if m, before := sock.waitFor("READY=1", 10*time.Second); len(before) != 0 {
		t.Fatalf("%s came after %q, want it first", m, before)
	}
	sock.waitFor("WATCHDOG=1", 5*interval)
	scan(t, d, sc, "W-1") // the writer works
	sock.waitFor("WATCHDOG=1", 5*interval)

	release := make(chan struct{})
	wedge.Store(&release)
	if err := sc.Send("W-2"); err != nil { // its entry's write is wedged
		t.Fatal(err)
	}
	status, _ := sock.waitFor("STATUS=unhealthy", 10*interval)
	if !strings.Contains(status, "journal write") {
		t.Errorf("status while wedged = %q, want it to name the journal write", status)
	}
	// Two and a half intervals with no ping: systemd would have
	// restarted the kiosk after one.
	quiet := time.Now().Add(5 * interval / 2)
	for time.Now().Before(quiet) {
		if m := sock.next(time.Until(quiet)); m == "WATCHDOG=1" {
			t.Fatalf("WATCHDOG=1 sent while the journal writer was wedged")
		}
	}

	wedge.Store(nil)
	close(release)
	sock.waitFor("WATCHDOG=1", 10*interval)

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v", err)
	}
	done <- nil
	sock.waitFor("STOPPING=1", 5*time.Second)
}
