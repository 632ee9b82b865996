package gate

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/gatepost/gatepost/kiosk/checkpoint"
	"github.com/gatepost/gatepost/kiosk/passcheck"
	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/protocol"
)

// record verifies the scanned pass, decides, journals and shows one
// check. why is the reason a reading was refused as implausible, if it
// was (reading is then nil).
func (g *Gate) record(ctx context.Context, scan string, reading *protocol.Reading, why string) {
	now := g.clk.Now()
	rules := g.rules()
	in := checkpoint.Input{Reading: reading}
	entry := protocol.Entry{Time: now, Kind: protocol.KindCheck, Temperature: reading}
	var holdKey string
	if scan != "" {
		res := g.verify(ctx, scan)
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
	g.mu.Lock()
	if holdKey != "" {
		in.Recheck, in.RestLeft = g.holds.Recheck(holdKey, now, rules)
	}
	out := checkpoint.Decide(in, rules)
	if reading == nil && why != "" {
		// Say why there was no usable reading (below range, too far...).
		out.Reasons = append(out.Reasons, why)
	}
	switch {
	case out.Hold:
		g.holds.Hold(holdKey, now)
	case in.Recheck && in.RestLeft == 0 && reading != nil:
		g.holds.Done(holdKey)
	}
	g.mu.Unlock()
	g.commit(ctx, entry, out, scan, reading)
}

// verify checks a scanned text; a source it cannot read is logged and the
// last good keys and list are used.
func (g *Gate) verify(ctx context.Context, text string) passcheck.Result {
	res, err := g.verifier.Verify(ctx, text)
	if err != nil {
		g.log.Warn("pass keys or status list unreadable: using the last good ones", "err", err)
	}
	if res.Trusted() && res.Pass != nil {
		g.ui.noteName(res.Pass.ID, res.Pass.Name)
	}
	return res
}

// commit journals entry with the rules' outcome and the guards on post,
// then shows it: the screen shows the entry only after the journal holds
// it. On failure the guard is told it is NOT recorded.
func (g *Gate) commit(ctx context.Context, entry protocol.Entry, out checkpoint.Outcome, scan string, reading *protocol.Reading) (protocol.Entry, error) {
	entry.Decision, entry.Reasons, entry.Alert = out.Decision, out.Reasons, out.Alert
	// Made with a simulated device, it is invented: say so in the entry,
	// so that the hub takes it only from a test site.
	entry.Simulated = g.cfg.Thermometer.Simulate || g.cfg.Scanner.Simulate
	if entry.OnPost == nil {
		g.mu.Lock()
		entry.OnPost = g.post.OnPost()
		g.mu.Unlock()
	}
	e, err := g.journal.Append(ctx, entry)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			g.writeFailures.Add(1)
			g.log.Error("journal append failed", "err", err, "failures", g.writeFailures.Load())
			g.setProblem(Sentence(KeyJournalFailed))
		}
		return e, err
	}
	g.log.Info("entry", "seq", e.Seq, "kind", e.Kind, "decision", e.Decision, "reasons", e.Reasons, "pass", e.Pass)
	shown := &screen.Shown{Seq: e.Seq, Time: e.Time, Scan: shorten(scan), Decision: string(out.Decision),
		Reasons: out.Reasons, Say: out.Say.String()}
	if reading != nil {
		shown.TemperatureC = &reading.ScreenedC
	}
	g.ui.show(e, out, shown)
	g.committed()
	return e, nil
}

// journalScan makes a scanned text fit an entry: valid UTF-8, at most
// protocol.MaxScanBytes. A hostile code is logged as what it was, not
// refused by the journal.
func journalScan(s string) string {
	s = strings.ToValidUTF8(s, "\ufffd")
	for len(s) > protocol.MaxScanBytes {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
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

func (g *Gate) setProblem(p string) {
	if g.screen.State().Problem != p {
		g.screen.Update(func(s *screen.State) { s.Problem = p })
	}
}
