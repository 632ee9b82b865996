package gate

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/screen"
	"github.com/gatepost/gatepost/kiosk/words"
	"github.com/gatepost/gatepost/protocol"
)

// scan sends a code to the running gate and waits until the screen shows
// its entry.
func (tg *testGate) scanAndWait(code string) *screen.Shown {
	tg.t.Helper()
	before := uint64(0)
	if last := tg.screen.State().Last; last != nil {
		before = last.Seq
	}
	tg.scan.codes <- code
	var shown *screen.Shown
	testkit.Eventually(tg.t, "the entry for "+code, func() bool {
		shown = tg.screen.State().Last
		return shown != nil && shown.Seq > before
	})
	return shown
}

// TestScanLoop: each scan is an entry with a fresh reading; a reading
// the limits refuse is a re-measure that says why; a thermometer that
// does not answer is a re-measure and the guard is told to check it; a
// code that is not text is a failed scan.
func TestScanLoop(t *testing.T) {
	g := newTestGate(t)
	g.cfg.Rules.RequirePass = false
	g.open()
	g.run()

	if got := g.scanAndWait("A-1"); got.Decision != "allow" || got.TemperatureC == nil || *got.TemperatureC != 36.5 {
		t.Fatalf("check at 36.5 °C = %+v, want allow at 36.5", got)
	}
	g.therm.set(29.5, nil) // a cold sleeve, not a forehead
	if got := g.scanAndWait("A-2"); got.Decision != "remeasure" || got.TemperatureC != nil || !slices.Contains(got.Reasons, protocol.ReasonBelowRange) {
		t.Fatalf("check at 29.5 °C = %+v, want remeasure with below_range and no temperature", got)
	}
	g.therm.set(0, errUnplugged)
	if got := g.scanAndWait("A-3"); got.Decision != "remeasure" || !slices.Contains(got.Reasons, protocol.ReasonNoReading) {
		t.Fatalf("check with no reading = %+v, want remeasure with no_reading", got)
	}
	if p := g.screen.State().Problem; p != Sentence(KeyThermometerGone) {
		t.Errorf("screen problem = %q, want the thermometer sentence", p)
	}
	g.therm.set(36.6, nil)
	if got := g.scanAndWait("\xff"); !slices.Equal(got.Reasons, []string{protocol.ReasonScanUnreadable}) {
		t.Fatalf("an unreadable code = %+v, want scan_unreadable", got)
	}
	g.scan.setGone(true)
	testkit.Eventually(t, "the scanner sentence", func() bool { return g.screen.State().Problem == Sentence(KeyScannerGone) })
	g.scan.setGone(false)
	g.ShowDevices()
	if got := g.scanAndWait("A-4"); got.Decision != "allow" {
		t.Fatalf("check after the scanner came back = %+v, want allow", got)
	}
	if p := g.screen.State().Problem; p != "" {
		t.Errorf("screen problem with both devices back = %q, want none", p)
	}
}

// TestSentencesInCatalogues: every sentence the gate shows is in each of
// the screen's catalogues, Chinese first.
func TestSentencesInCatalogues(t *testing.T) {
	for _, key := range []string{KeyJournalFailed, KeyScannerGone, KeyThermometerGone, KeyDiskLow} {
		s := Sentence(key)
		for _, lang := range words.Languages {
			if m := words.MessageIn(lang, key); m == key || !strings.Contains(s, m) {
				t.Errorf("Sentence(%q) = %q: lacks the %s catalogue's message %q", key, s, lang, m)
			}
		}
		if !strings.HasPrefix(s, words.MessageIn("zh-CN", key)) {
			t.Errorf("Sentence(%q) = %q, want Chinese first", key, s)
		}
	}
}
