package gate

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// loop is the scan loop's heartbeat: whether Run is running, and since
// when it has been busy with one scan (0 while it waits for the next).
// A loop waiting for a scan is alive however long nobody comes; a loop
// stuck on one scan (a read that never returns, a wedged journal) is not.
type loop struct {
	running   atomic.Bool
	busySince atomic.Int64 // unix nanoseconds; 0 while waiting
}

// ErrNotRunning means the gate's scan loop is not running.
var ErrNotRunning = errors.New("the gate's scan loop is not running")

// Alive returns nil while the scan loop runs and has spent no longer than
// limit on the scan in hand; the kiosk's watchdog asks it.
func (g *Gate) Alive(limit time.Duration) error {
	if !g.loop.running.Load() {
		return ErrNotRunning
	}
	since := g.loop.busySince.Load()
	if since == 0 {
		return nil
	}
	if age := g.clk.Now().Sub(time.Unix(0, since)); age > limit {
		return fmt.Errorf("the gate's scan loop has been on one scan for %s (limit %s)", age.Round(time.Millisecond), limit)
	}
	return nil
}

func (l *loop) busy(now time.Time) { l.busySince.Store(now.UnixNano()) }
func (l *loop) idle()              { l.busySince.Store(0) }
