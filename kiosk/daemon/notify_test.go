package daemon

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/internal/sdnotify"
	"github.com/gatepost/gatepost/internal/sdnotify/sdnotifytest"
	"github.com/gatepost/gatepost/kiosk/journal"
)

// TestWatchdogStopsWhenWriterWedged runs a kiosk on simulated devices as
// systemd would (NOTIFY_SOCKET, WATCHDOG_USEC): it says READY=1 and pings
// the watchdog; once its journal writer is wedged the pings stop (systemd
// would restart it); once the writer moves again they resume; on the way
// out it says STOPPING=1.
func TestWatchdogStopsWhenWriterWedged(t *testing.T) {
	const interval = 600 * time.Millisecond
	sock := sdnotifytest.Listen(t, interval)
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

	if m, before := sock.WaitFor("READY=1", 10*time.Second); len(before) != 0 {
		t.Fatalf("%s came after %q, want it first", m, before)
	}
	sock.WaitFor("WATCHDOG=1", 5*interval)
	scan(t, d, sc, "W-1") // the writer works
	sock.WaitFor("WATCHDOG=1", 5*interval)

	release := make(chan struct{})
	wedge.Store(&release)
	if err := sc.Send("W-2"); err != nil { // its entry's write is wedged
		t.Fatal(err)
	}
	status, _ := sock.WaitFor("STATUS=unhealthy", 10*interval)
	if !strings.Contains(status, "journal write") {
		t.Errorf("status while wedged = %q, want it to name the journal write", status)
	}
	// Two and a half intervals with no ping: systemd would have
	// restarted the kiosk after one.
	sock.Quiet("WATCHDOG=1", 5*interval/2)

	wedge.Store(nil)
	close(release)
	sock.WaitFor("STATUS=healthy again", 10*interval)
	sock.WaitFor("WATCHDOG=1", 5*interval)

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v", err)
	}
	done <- nil
	sock.WaitFor("STOPPING=1", 5*time.Second)
}
