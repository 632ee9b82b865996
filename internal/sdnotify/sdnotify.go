// Package sdnotify speaks systemd's notify protocol: READY=1 when a
// service can do its work, WATCHDOG=1 while it still can, STOPPING=1 on
// the way out. It is the few lines of the protocol (a datagram to
// $NOTIFY_SOCKET), so there is no dependency to trust; with no
// NOTIFY_SOCKET (not under systemd, or Type=simple) every call does
// nothing.
//
// kiosk/daemon and hub/server speak it (READY, the watchdog, STOPPING),
// the kiosk's and the hub's programs hand them a Notifier from FromEnv,
// and sdnotifytest plays systemd's end for their tests; it imports
// nothing of ours. The units it serves are in packaging/systemd
// (units_test.go verifies them).
package sdnotify

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"time"
)

// Notifier sends to one socket.
type Notifier struct {
	addr     string        // "" when not under systemd
	watchdog time.Duration // WATCHDOG_USEC, 0 when the watchdog is off
}

// FromEnv reads NOTIFY_SOCKET and WATCHDOG_USEC (honouring WATCHDOG_PID
// when set, as sd_watchdog_enabled does).
func FromEnv() *Notifier {
	n := &Notifier{addr: os.Getenv("NOTIFY_SOCKET")}
	if usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64); err == nil && usec > 0 {
		pid := os.Getenv("WATCHDOG_PID")
		if pid == "" || pid == strconv.Itoa(os.Getpid()) {
			n.watchdog = time.Duration(usec) * time.Microsecond
		}
	}
	return n
}

// Enabled reports whether a service manager listens.
func (n *Notifier) Enabled() bool { return n.addr != "" }

// WatchdogInterval is how often systemd wants WATCHDOG=1, or 0 if not at all.
func (n *Notifier) WatchdogInterval() time.Duration { return n.watchdog }

// Send sends one notification, e.g. "READY=1" or "STATUS=journal ok".
func (n *Notifier) Send(state string) error {
	if n.addr == "" {
		return nil
	}
	addr := n.addr
	if addr[0] == '@' { // an abstract socket
		addr = "\x00" + addr[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}

// Ready says the service is up.
func (n *Notifier) Ready() error { return n.Send("READY=1") }

// Stopping says the service is shutting down.
func (n *Notifier) Stopping() error { return n.Send("STOPPING=1") }

// Watchdog pings systemd's watchdog at half its interval, but only while
// alive() says the service still works; a wedged service stops pinging
// and systemd restarts it. It returns when ctx ends, or at once when the
// watchdog is off.
func (n *Notifier) Watchdog(ctx context.Context, alive func() error) error {
	if n.watchdog <= 0 || n.addr == "" {
		return nil
	}
	t := time.NewTicker(n.watchdog / 2)
	defer t.Stop()
	unhealthy := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := alive(); err != nil {
				// No ping: systemd will restart us when the interval passes.
				n.Send("STATUS=unhealthy: " + err.Error())
				unhealthy = true
				continue
			}
			if unhealthy { // systemctl status would go on showing the old STATUS
				n.Send("STATUS=healthy again")
				unhealthy = false
			}
			if err := n.Send("WATCHDOG=1"); err != nil && !errors.Is(err, net.ErrClosed) {
				return err
			}
		}
	}
}
