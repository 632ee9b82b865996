package e2e

import (
	"flag"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/protocol"
)

// latencyScans is how many scans TestScreenScanLatency measures. The
// default keeps it a quick smoke test of the measurement itself; the
// figure in docs/benchmarks.md is taken with
//
//	go test ./e2e -run TestScreenScanLatency -scans 200 -v
var latencyScans = flag.Int("scans", 20, "scans for TestScreenScanLatency")

// TestScreenScanLatency measures, for each scan, the time from the code
// written to the scanner's serial port (the simulator's side of the
// pseudo-terminal) to the result in the browser's DOM: the driver, the
// thermometer query (the simulator answers at once), the pass check, the
// journal's synchronous commit, the server-sent event and the page's
// drawing. It reports p50 and p99 and asserts nothing about them: it is a
// benchmark, not a timed test (the machine is shared).
func TestScreenScanLatency(t *testing.T) {
	g := newScreenGate(t)
	g.cfg.Screen.ResultFor = config.Duration(time.Minute) // keep each result up: the next scan replaces it
	g.run()
	ctx := tab(t, g)
	n := *latencyScans
	codes := make([]string, n)
	for i := range codes {
		codes[i] = g.pass(fmt.Sprintf("R%07d", i+1), protocol.PassResident, "1-101", "测*")
	}
	// The page's own clock stamps the moment each entry's number appears.
	js[bool](t, ctx, `(() => {
		window.seenAt = {};
		new MutationObserver(() => {
			const m = /#(\d+)/.exec(document.getElementById("detail").textContent);
			if (m && !window.seenAt[m[1]]) window.seenAt[m[1]] = performance.timeOrigin + performance.now();
		}).observe(document.getElementById("detail"), {childList: true, characterData: true, subtree: true});
		return true;
	})()`)
	sent := make([]time.Time, n)
	shown := make([]time.Time, n)
	for i, code := range codes {
		sent[i] = time.Now()
		g.scan(code)
		waitJS(t, ctx, fmt.Sprintf("scan %d shown", i+1), fmt.Sprintf("window.seenAt[%d]", i+1))
		at := js[float64](t, ctx, fmt.Sprintf("window.seenAt[%d]", i+1))
		shown[i] = time.UnixMicro(int64(at * 1000))
	}
	es := g.waitEntries(n)
	if len(es) != n {
		t.Fatalf("journal holds %d entries, want %d", len(es), n)
	}
	// The entry's time is taken after the reading, before the journal: it
	// splits the path into devices (driver + thermometer query) and the
	// rest (rules, journal commit, event, drawing).
	var total, devices, rest []time.Duration
	for i := range n {
		total = append(total, shown[i].Sub(sent[i]))
		devices = append(devices, es[i].Time.Sub(sent[i]))
		rest = append(rest, shown[i].Sub(es[i].Time))
	}
	for _, r := range []struct {
		name string
		d    []time.Duration
	}{{"scan -> DOM", total}, {"  scan -> reading taken", devices}, {"  reading -> DOM", rest}} {
		slices.Sort(r.d)
		pct := func(p float64) time.Duration { return r.d[min(len(r.d)-1, int(p*float64(len(r.d))))] }
		t.Logf("%-24s over %d scans: p50 %6.1f ms, p99 %6.1f ms, max %6.1f ms", r.name, n, ms(pct(0.50)), ms(pct(0.99)), ms(r.d[len(r.d)-1]))
	}
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
