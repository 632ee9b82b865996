package retention

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// newPurger returns a purger on a fresh hub.db and console.db, on a fake
// clock at t0, and the two stores.
func newPurger(tb testing.TB) (*Purger, *records.SQLite, *operators.Store, *clock.Fake) {
	tb.Helper()
	clk := clock.NewFake(t0)
	rec, err := records.Open(filepath.Join(tb.TempDir(), "hub.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rec.Close() })
	ops, err := operators.Open(filepath.Join(tb.TempDir(), operators.FileName), clk)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ops.Close() })
	return &Purger{Records: rec, Settings: ops, Clock: clk}, rec, ops, clk
}

// saveVisitor stores a visitor entry from gate-1 with seq, received then.
func saveVisitor(tb testing.TB, rec *records.SQLite, seq uint64, received time.Time) {
	tb.Helper()
	b := protocol.Batch{Kiosk: "gate-1", Site: "huamu-001", Sent: received, Entries: []protocol.Entry{{
		Kiosk: "gate-1", Seq: seq, ID: fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", seq), Time: received.Add(-time.Minute),
		Kind: protocol.KindVisitor, Decision: protocol.DecisionAllow, Reasons: []string{protocol.ReasonVisitor},
		Visitor: &protocol.Visitor{Name: "王小明", Contact: "13812345678", Visiting: "3-201"}}}}
	if _, err := rec.SaveBatch(tb.Context(), b, received); err != nil {
		tb.Fatal(err)
	}
}

func visitor(tb testing.TB, rec *records.SQLite, seq uint64) *protocol.Visitor {
	tb.Helper()
	list, err := rec.Entries(tb.Context(), records.Query{Kiosk: "gate-1", AfterSeq: seq - 1, Limit: 1})
	if err != nil || len(list) != 1 {
		tb.Fatalf("entry gate-1/%d: %v, %v", seq, list, err)
	}
	return list[0].Visitor
}

func TestPurgeByRetention(t *testing.T) {
	t.Parallel()
	p, rec, ops, _ := newPurger(t)
	saveVisitor(t, rec, 1, t0.AddDate(0, 0, -30))
	saveVisitor(t, rec, 2, t0.AddDate(0, 0, -20))
	if err := p.Purge(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v := visitor(t, rec, 1); v.Name != records.Redacted || v.Contact != "" || v.Visiting != "3-201" {
		t.Errorf("visitor after 30 days = %+v, want name and phone gone (retention 28 days)", v)
	}
	if v := visitor(t, rec, 2); v.Name != "王小明" {
		t.Errorf("visitor after 20 days = %+v, want it kept", v)
	}
	log, _ := ops.AuditLog(t.Context(), 1)
	if len(log) != 1 || log[0].Action != "purge" || log[0].User != "(hub)" || log[0].Detail != "visitor: 1" {
		t.Errorf("audit = %+v", log)
	}
}

// Run purges at start and then hourly, by itself: nothing of the console
// is running.
func TestRunPurgesHourly(t *testing.T) {
	t.Parallel()
	p, rec, _, clk := newPurger(t)
	saveVisitor(t, rec, 1, t0.AddDate(0, 0, -29))
	saveVisitor(t, rec, 2, t0.AddDate(0, 0, -28).Add(30*time.Minute)) // 28 days old in half an hour
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	testkit.Eventually(t, "the purge at start", func() bool { return visitor(t, rec, 1).Name == records.Redacted })
	if v := visitor(t, rec, 2); v.Name != "王小明" {
		t.Errorf("visitor not yet 28 days old = %+v, want it kept", v)
	}
	clk.Advance(DefaultEvery)
	testkit.Eventually(t, "the purge an hour later", func() bool { return visitor(t, rec, 2).Name == records.Redacted })
	cancel()
	<-done
}

// TestPurgeKeepsTheChainVerifiable: entries chained as a kiosk chains
// them verify after retention purged their personal fields, and the
// purge is audited.
func TestPurgeKeepsTheChainVerifiable(t *testing.T) {
	t.Parallel()
	p, rec, ops, _ := newPurger(t)
	received := t0.AddDate(0, 0, -30)
	b := protocol.Batch{Kiosk: "gate-1", Site: "huamu-001", Sent: received}
	prev := protocol.Genesis
	for seq := uint64(1); seq <= 4; seq++ {
		e := protocol.Entry{Kiosk: "gate-1", Seq: seq, ID: fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", seq),
			Time: received.Add(-time.Minute), Kind: protocol.KindVisitor, Decision: protocol.DecisionAllow,
			Reasons: []string{protocol.ReasonVisitor}, Prev: protocol.HashText(prev),
			Visitor: &protocol.Visitor{Name: "王小明", Contact: "13812345678", From: "浦东", Purpose: "探亲", Visiting: "3-201"}}
		if seq%2 == 0 {
			e.Kind, e.Visitor, e.Scan = protocol.KindCheck, nil, "GP1:resident"
		}
		prev = protocol.EntryHash(prev, e)
		b.Entries = append(b.Entries, e)
	}
	if _, err := rec.SaveBatch(t.Context(), b, received); err != nil {
		t.Fatal(err)
	}
	if err := p.Purge(t.Context()); err != nil {
		t.Fatal(err)
	}
	if v := visitor(t, rec, 1); v.Name != records.Redacted || v.Contact != "" || v.From != "" || v.Purpose != "" {
		t.Fatalf("visitor after the purge = %+v", v)
	}
	v, err := rec.Verify(t.Context(), "")
	if err != nil || v.Entries != 4 || v.Purged != 4 || len(v.Findings) != 0 {
		t.Fatalf("Verify after the purge = %+v, %v; want 4 purged entries, no findings", v, err)
	}
	if log, _ := ops.AuditLog(t.Context(), 5); len(log) != 2 {
		t.Errorf("audit = %+v, want the two kinds purged", log)
	}
}
