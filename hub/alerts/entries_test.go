package alerts

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/records/recordstest"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// An entry raises one alert, of the kind of its most urgent reason; the
// conditions that repeat on every entry raise one per gate per hour;
// reading the same entries again raises nothing twice.
func TestEntriesRaiseAlerts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	recordstest.SaveEntries(t, e.rec, t0.Add(-time.Minute),
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAllow, Reasons: []string{protocol.ReasonPassValid}},
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAlert, Reasons: []string{protocol.ReasonFeverConfirmed}, Unit: "3-201",
			Temperature: &protocol.Reading{ObjectC: 38, ScreenedC: 38.2}},
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionDeny, Reasons: []string{protocol.ReasonPassRevoked}, Alert: true},
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAllow, Reasons: []string{protocol.ReasonUnderstaffed}},
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAllow, Reasons: []string{protocol.ReasonUnderstaffed}},
		protocol.Entry{Kind: protocol.KindVisitor, Decision: protocol.DecisionAlert, Reasons: []string{protocol.ReasonKeyRegionReturnee},
			Visitor: &protocol.Visitor{Name: "王小明", Contact: "13812345678", Returnee: true}},
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAlert, Reasons: []string{"fever"}}, // an early kiosk's
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAlert, Reasons: []string{protocol.ReasonNoKeys}},
	)
	for range 2 {
		e.poll(t)
	}
	want := []string{protocol.AlertOther, protocol.AlertFever, protocol.AlertFever, protocol.AlertKeyRegion,
		protocol.AlertPassRevoked, protocol.AlertPostUnderstaffed}
	slices.Sort(want)
	if got := e.open(t); !slices.Equal(got, want) {
		t.Errorf("open alerts %q, want %q", got, want)
	}
	list, _ := e.store.Alerts(t.Context(), 100)
	for _, a := range list {
		if strings.Contains(a.Detail, "王") || strings.Contains(a.Detail, "13812345678") {
			t.Errorf("alert detail %q carries personal details", a.Detail)
		}
		if a.Kind == protocol.AlertFever && strings.Contains(a.Detail, "#2 ") && !strings.Contains(a.Detail, "38.2 °C") {
			t.Errorf("fever alert detail %q, want the reading", a.Detail)
		}
	}
}

// With nobody on the live view, Poll reads only what may raise an alert
// and still moves past everything else.
func TestPollPassesOverOrdinaryEntries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	var es []protocol.Entry
	for range 700 {
		es = append(es, protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAllow,
			Reasons: []string{protocol.ReasonPassValid, protocol.ReasonTemperatureNormal}})
	}
	es[100] = protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAllow, Reasons: []string{protocol.ReasonPassValid, protocol.ReasonUnderstaffed}}
	es[650] = protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAlert, Reasons: []string{protocol.ReasonPassRevoked}}
	recordstest.SaveEntries(t, e.rec, t0.Add(-time.Minute), es...)
	if n := e.poll(t); n != 2 {
		t.Fatalf("Poll = %d; want the 2 entries that raise alerts read", n)
	}
	if got, want := e.open(t), []string{protocol.AlertPassRevoked, protocol.AlertPostUnderstaffed}; !slices.Equal(got, want) {
		t.Errorf("alerts %v, want %v", got, want)
	}
	cur, err := e.store.Setting(t.Context(), cursorSetting, "")
	if err != nil || !strings.HasSuffix(cur, " 700 gate-1") {
		t.Errorf("cursor %q, %v: want it past gate-1/700", cur, err)
	}
	if n := e.poll(t); n != 0 {
		t.Errorf("second Poll = %d; want nothing new", n)
	}
}

// watcher records what the follower tells a live view.
type watcher struct {
	mu       sync.Mutex
	watching bool
	entries  []uint64
	alerts   []string
}

func (w *watcher) Watching() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.watching }
func (w *watcher) EntryReceived(e records.Stored) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.entries = append(w.entries, e.Seq)
}
func (w *watcher) AlertRaised(a operators.Alert) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.alerts = append(w.alerts, a.Kind+" "+a.State)
}

// A watched follower reads every entry and hands it on, with each new
// alert once.
func TestWatcherGetsEntriesAndNewAlerts(t *testing.T) {
	t.Parallel()
	w := &watcher{watching: true}
	e := newEnv(t, w)
	recordstest.SaveEntries(t, e.rec, t0.Add(-time.Minute),
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAllow, Reasons: []string{protocol.ReasonPassValid}},
		protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionDeny, Reasons: []string{protocol.ReasonPassForged}, Alert: true})
	if n := e.poll(t); n != 2 {
		t.Errorf("watched Poll read %d entries, want 2", n)
	}
	e.poll(t)
	if !slices.Equal(w.entries, []uint64{1, 2}) || !slices.Equal(w.alerts, []string{"pass_forged open"}) {
		t.Errorf("watcher got entries %v and alerts %q, want 1, 2 and one pass_forged", w.entries, w.alerts)
	}
}

// Run polls on its own, on the clock's ticks, with no console at all, and
// stops with its context.
func TestRunRaisesWithoutAConsole(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); e.f.Run(ctx) }()
	testkit.Eventually(t, "the follower waits for its next tick", func() bool { return e.clock.Waiters() > 0 })
	recordstest.SaveEntries(t, e.rec, t0, protocol.Entry{Kind: protocol.KindCheck, Decision: protocol.DecisionAlert,
		Reasons: []string{protocol.ReasonHomeObservation}})
	e.clock.Advance(DefaultPollEvery)
	testkit.Eventually(t, "a home_observation alert", func() bool {
		return slices.Equal(e.open(t), []string{protocol.AlertHomeObservation})
	})
	cancel()
	<-done
}

// TestPerHourReasonsAreRead: the reasons whose alerts are raised on
// entries that are not urgent are the ones the records flag as alerting,
// so the follower, reading only flagged entries, sees each of them.
func TestPerHourReasonsAreRead(t *testing.T) {
	var raised []string
	for _, ar := range alertReasons {
		if perHour[ar.kind] {
			raised = append(raised, ar.reason)
		}
	}
	flagged := slices.Clone(records.AlertingReasons)
	slices.Sort(raised)
	slices.Sort(flagged)
	if !slices.Equal(raised, flagged) {
		t.Errorf("alerts raised on entries that are not urgent for %q; records flag %q as alerting", raised, flagged)
	}
}
