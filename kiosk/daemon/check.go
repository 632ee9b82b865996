package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/protocol"
)

// Plain sentences for the guard (Chinese first). Never a Go error string.
const (
	msgJournalFailed = "记录失败：本次未登记，请手工登记并联系维护人员。 Could not save this entry: it is NOT recorded. Write it on paper and call maintenance."
	msgScannerGone   = "扫码器未连接，请检查连线。 Scanner not connected: check its cable."
)

// checkLoop turns each scan, with a fresh temperature reading, into a
// journaled entry, then shows it.
func (d *Daemon) checkLoop(ctx context.Context) {
	for {
		scan, err := d.devices.nextScan(ctx)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errBadCode) {
			continue
		}
		if err != nil {
			d.setProblem(msgScannerGone)
			continue
		}
		d.setProblem(d.devices.problem())
		reading := d.devices.read(ctx, d.cfg.Thermometer.Timeout.D())
		if ctx.Err() != nil {
			return
		}
		d.record(ctx, scan.Text, reading)
	}
}

// record decides, journals and shows one check. The screen shows the
// entry only after the journal holds it.
func (d *Daemon) record(ctx context.Context, scan string, reading *protocol.Reading) {
	decision, reasons := checkpoint.Decide(checkpoint.Input{Scan: scan, Reading: reading},
		checkpoint.Rules{FeverC: d.fever()})
	e, err := d.journal.Append(ctx, protocol.Entry{
		Time: time.Now(), Kind: protocol.KindCheck, Scan: scan,
		Temperature: reading, Decision: decision, Reasons: reasons,
	})
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			d.writeFailures.Add(1)
			d.log.Error("journal append failed", "err", err, "failures", d.writeFailures.Load())
			d.setProblem(msgJournalFailed)
		}
		return
	}
	d.log.Info("entry", "seq", e.Seq, "decision", e.Decision, "reasons", e.Reasons)
	shown := &screen.Shown{Seq: e.Seq, Time: e.Time, Scan: shorten(scan), Decision: string(decision), Reasons: reasons}
	if reading != nil {
		shown.TemperatureC = &reading.ScreenedC
	}
	d.screen.Update(func(s *screen.State) { s.Last = shown })
	d.uplink.Notify()
	d.refreshLink()
}

func (d *Daemon) setProblem(p string) {
	if d.screen.State().Problem != p {
		d.screen.Update(func(s *screen.State) { s.Problem = p })
	}
}

// shorten keeps the start of a scanned code: enough for a guard to tell
// scans apart, not enough to copy a pass from the screen.
func shorten(s string) string {
	r := []rune(s)
	if len(r) <= 12 {
		return s
	}
	return string(r[:12]) + "…"
}
