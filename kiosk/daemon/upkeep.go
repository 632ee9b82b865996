package daemon

import (
	"context"
	"strings"
	"syscall"

	"github.com/gatepost/gatepost/kiosk/gate"
	"github.com/gatepost/gatepost/kiosk/screen"
)

// housekeeping purges acknowledged entries past their age and watches the
// free disk, every Retention.CheckEvery.
func (d *Daemon) housekeeping(ctx context.Context) {
	t := d.clk.NewTicker(d.cfg.Retention.CheckEvery.D())
	defer t.Stop()
	for {
		d.checkDisk()
		if age := d.cfg.Retention.MaxAge.D(); age > 0 {
			n, err := d.journal.Purge(ctx, d.clk.Now().Add(-age))
			if err != nil && ctx.Err() == nil {
				d.log.Error("purge of old acknowledged entries failed", "err", err)
			} else if n > 0 {
				d.purged.Add(uint64(n))
				d.log.Info("purged acknowledged entries", "entries", n, "older_than", age)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

func (d *Daemon) checkDisk() {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(d.cfg.DataDir, &fs); err != nil {
		d.log.Warn("cannot read free disk space", "err", err)
		return
	}
	free := int64(fs.Bavail) * int64(fs.Bsize)
	low := free < d.cfg.Retention.MinFreeBytes
	if d.diskLow.Swap(low) == low {
		return
	}
	if low {
		d.log.Warn("disk nearly full", "free_bytes", free, "min_free_bytes", d.cfg.Retention.MinFreeBytes)
	}
	w := d.warning()
	d.screen.Update(func(s *screen.State) { s.Warning = w })
	d.uplink.RefreshStatus()
}

// warning is the screen's sentence about the kiosk itself: the disk, and
// entries the uplink cannot sync until a person acts (a replaced journal
// that cannot be renumbered). Both can hold at once.
func (d *Daemon) warning() string {
	var ws []string
	if !d.enrolled {
		ws = append(ws, NotEnrolled())
	}
	if d.diskLow.Load() {
		ws = append(ws, gate.Sentence(gate.KeyDiskLow))
	}
	if p := d.uplink.Problem(); p != "" {
		ws = append(ws, p)
	}
	return strings.Join(ws, " ")
}
