// Package sdnotifytest plays systemd for tests of programs that speak
// its notify protocol (internal/sdnotify): a datagram socket named by
// NOTIFY_SOCKET, with WATCHDOG_USEC set, and reads of what arrives.
//
// The kiosk daemon's and the hub server's tests import it.
package sdnotifytest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Socket is systemd's end of the notify socket.
type Socket struct {
	t    testing.TB
	conn *net.UnixConn
}

// Listen listens on a new socket and sets NOTIFY_SOCKET to it and
// WATCHDOG_USEC to watchdog (0: no watchdog) for the rest of the test.
// It uses t.Setenv, so the test cannot be parallel.
func Listen(t *testing.T, watchdog time.Duration) *Socket {
	t.Helper()
	// Not t.TempDir(): a socket's path has at most 107 bytes.
	dir, err := os.MkdirTemp("", "sdn")
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
	return &Socket{t: t, conn: conn}
}

// Next returns the next notification, or "" if none came within wait.
func (s *Socket) Next(wait time.Duration) string {
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

// WaitFor reads notifications until one starts with prefix and returns
// it with those read before it; the test fails if none came within wait.
func (s *Socket) WaitFor(prefix string, wait time.Duration) (string, []string) {
	s.t.Helper()
	deadline := time.Now().Add(wait)
	var before []string
	for time.Now().Before(deadline) {
		m := s.Next(time.Until(deadline))
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

// Quiet reads for the whole of d and fails the test if a notification
// starting with prefix arrives.
func (s *Socket) Quiet(prefix string, d time.Duration) {
	s.t.Helper()
	until := time.Now().Add(d)
	for time.Now().Before(until) {
		if m := s.Next(time.Until(until)); m != "" && strings.HasPrefix(m, prefix) {
			s.t.Fatalf("%q sent within %v, want none", m, d)
		}
	}
}
