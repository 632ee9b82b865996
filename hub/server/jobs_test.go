package server

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// With no console at all, the hub's jobs still raise alerts and purge:
// both run on console.db, not in the console.
func TestJobsRunWithoutTheConsole(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec, err := records.Open(filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	now := time.Now()
	for seq, received := range map[uint64]time.Time{1: now.AddDate(0, 0, -40), 2: now} {
		e := protocol.Entry{Kiosk: "gate-1", Seq: seq, ID: fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", seq),
			Time: received, Kind: protocol.KindVisitor, Decision: protocol.DecisionAllow, Reasons: []string{protocol.ReasonVisitor},
			Visitor: &protocol.Visitor{Name: "王小明", Contact: "13812345678"}}
		if seq == 2 {
			e.Kind, e.Decision, e.Reasons, e.Visitor = protocol.KindCheck, protocol.DecisionAlert, []string{protocol.ReasonPassForged}, nil
		}
		if _, err := rec.SaveBatch(t.Context(), protocol.Batch{Kiosk: "gate-1", Site: "huamu-001", Sent: received,
			Entries: []protocol.Entry{e}}, received); err != nil {
			t.Fatal(err)
		}
	}
	ops, err := datadir.Dir{Path: dir}.OpenOperators()
	if err != nil {
		t.Fatal(err)
	}
	defer ops.Close()
	j := &jobs{operators: ops, rec: rec, clock: clock.Real(), log: testLogger(t)}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	if err := j.start(ctx, &wg, nil); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "a pass_forged alert", func() bool {
		list, err := j.operators.Alerts(t.Context(), 10, operators.StateOpen)
		return err == nil && slices.ContainsFunc(list, func(a operators.Alert) bool { return a.Kind == protocol.AlertPassForged })
	})
	testkit.Eventually(t, "the 40-day-old visitor purged", func() bool {
		list, err := rec.Entries(t.Context(), records.Query{Kiosk: "gate-1", Limit: 1})
		return err == nil && len(list) == 1 && list[0].Visitor.Name == records.Redacted
	})
	cancel()
	wg.Wait()
}
