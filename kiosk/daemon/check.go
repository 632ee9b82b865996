package daemon

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/passcheck"
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
			// Too long or not UTF-8: logged as a failed scan, the text
			// itself not kept.
			d.commit(ctx, protocol.Entry{Time: time.Now(), Kind: protocol.KindCheck}, checkpoint.UnreadableScan(), "", nil)
			continue
		}
		if err != nil {
			d.setProblem(msgScannerGone)
			continue
		}
		d.setProblem(d.devices.problem())
		if d.ui.takeScan(ctx, scan.Text) {
			continue // a guard's pass, for the sign-in or disinfection the screen asked for
		}
		reading := d.devices.read(ctx, d.cfg.Thermometer.Timeout.D())
		if ctx.Err() != nil {
			return
		}
		d.record(ctx, scan.Text, reading)
	}
}

// record verifies the scanned pass, decides, journals and shows one
// check.
func (d *Daemon) record(ctx context.Context, scan string, reading *protocol.Reading) {
	now := time.Now()
	rules := d.rules()
	in := checkpoint.Input{Reading: reading}
	entry := protocol.Entry{Time: now, Kind: protocol.KindCheck, Temperature: reading}
	var holdKey string
	if scan != "" {
		res := d.verify(ctx, scan)
		in.Pass = &res
		if res.Trusted() {
			// The pass id identifies the person; the token itself is a
			// credential and stays off the journal.
			entry.Pass, entry.Unit = res.Pass.ID, res.Pass.Unit
		} else {
			entry.Scan = journalScan(scan)
		}
		holdKey = holdKeyOf(entry)
	}
	d.gateMu.Lock()
	if holdKey != "" {
		in.Recheck, in.RestLeft = d.holds.Recheck(holdKey, now, rules)
	}
	out := checkpoint.Decide(in, rules)
	if reading == nil {
		// Say why there was no usable reading (below range, too far...).
		out.Reasons = d.devices.remeasureReasons(out.Reasons)
	}
	switch {
	case out.Hold:
		d.holds.Hold(holdKey, now)
	case in.Recheck && in.RestLeft == 0 && reading != nil:
		d.holds.Done(holdKey)
	}
	d.gateMu.Unlock()
	d.commit(ctx, entry, out, scan, reading)
}

// verify checks a scanned text; a source it cannot read is logged and the
// last good keys and list are used.
func (d *Daemon) verify(ctx context.Context, text string) passcheck.Result {
	res, err := d.verifier.Verify(ctx, text)
	if err != nil {
		d.log.Warn("pass keys or status list unreadable: using the last good ones", "err", err)
	}
	if res.Trusted() && res.Pass != nil {
		d.ui.noteName(res.Pass.ID, res.Pass.Name)
	}
	return res
}

// commit journals entry with the rules' outcome and the guards on post,
// then shows it: the screen shows the entry only after the journal holds
// it. On failure the guard is told it is NOT recorded.
func (d *Daemon) commit(ctx context.Context, entry protocol.Entry, out checkpoint.Outcome, scan string, reading *protocol.Reading) (protocol.Entry, error) {
	entry.Decision, entry.Reasons, entry.Alert = out.Decision, out.Reasons, out.Alert
	if entry.OnPost == nil {
		d.gateMu.Lock()
		entry.OnPost = d.post.OnPost()
		d.gateMu.Unlock()
	}
	e, err := d.journal.Append(ctx, entry)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			d.writeFailures.Add(1)
			d.log.Error("journal append failed", "err", err, "failures", d.writeFailures.Load())
			d.setProblem(msgJournalFailed)
		}
		return e, err
	}
	d.log.Info("entry", "seq", e.Seq, "kind", e.Kind, "decision", e.Decision, "reasons", e.Reasons, "pass", e.Pass)
	shown := &screen.Shown{Seq: e.Seq, Time: e.Time, Scan: shorten(scan), Decision: string(out.Decision),
		Reasons: out.Reasons, Say: out.Say.String()}
	if reading != nil {
		shown.TemperatureC = &reading.ScreenedC
	}
	d.ui.show(e, out, shown)
	d.uplink.Notify()
	d.refreshLink()
	return e, nil
}

// rules are the configured rules with the fever line the hub last pushed.
func (d *Daemon) rules() checkpoint.Rules {
	r := checkpointRules(d.cfg)
	r.FeverC = d.fever()
	return r
}

// checkpointRules are the configured rules in checkpoint's terms.
func checkpointRules(cfg config.Config) checkpoint.Rules {
	r := cfg.Rules
	return checkpoint.Rules{
		FeverC: r.FeverC, FeverMode: checkpoint.FeverMode(r.FeverMode),
		RecheckAfter: r.RecheckAfter.D(), RecheckWithin: r.RecheckWithin.D(),
		RequirePass: r.RequirePass, VisitorsAdmitted: r.VisitorsAdmitted, KeyRegions: r.KeyRegions,
		MinOnPost: r.MinOnPost, Location: time.Local,
	}
}

// journalScan makes a scanned text fit an entry: valid UTF-8, at most
// protocol.MaxScanBytes. A hostile code is logged as what it was, not
// refused by the journal.
// holdKeyOf is the key a fever hold of e is kept under: the pass id, the
// scanned text as journaled, or the visitor's name and contact. It reads
// only what the journal keeps, so restoreHolds finds the same keys.
func holdKeyOf(e protocol.Entry) string {
	switch {
	case e.Pass != "":
		return e.Pass
	case e.Kind == protocol.KindVisitor && e.Visitor != nil:
		return visitorHoldKey(*e.Visitor)
	default:
		return e.Scan
	}
}

func visitorHoldKey(v protocol.Visitor) string { return "visitor:" + v.Name + "/" + v.Contact }

// restoreHolds replays the journal's recent entries into the holds, so
// that a kiosk restarted while someone rests before their second reading
// takes their next scan as that second reading.
func (d *Daemon) restoreHolds(ctx context.Context) {
	within := d.rules().RecheckWithin
	if within <= 0 {
		within = checkpoint.Defaults().RecheckWithin
	}
	recent, err := d.journal.Recent(ctx, time.Now().Add(-within), 10000)
	if err != nil {
		d.log.Error("fever holds not restored: the next scan of someone resting is taken as a first reading", "err", err)
		return
	}
	d.gateMu.Lock()
	defer d.gateMu.Unlock()
	for _, e := range recent {
		if key := holdKeyOf(e); key != "" {
			d.holds.Replay(key, e.Time, e.Reasons)
		}
	}
	if n := d.holds.Len(); n > 0 {
		d.log.Info("fever holds restored from the journal", "people_resting", n)
	}
}

func journalScan(s string) string {
	s = strings.ToValidUTF8(s, "\ufffd")
	for len(s) > protocol.MaxScanBytes {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
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
