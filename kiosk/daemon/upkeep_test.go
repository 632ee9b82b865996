package daemon

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/config"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
)

// TestRetentionOnTheDaemonsClock: acknowledged entries older than
// retention.max_age go at the next check, as the daemon's clock tells
// the time; unacknowledged ones stay.
func TestRetentionOnTheDaemonsClock(t *testing.T) {
	cfg := config4(t)
	cfg.Retention.MaxAge = config.Duration(24 * time.Hour)
	cfg.Retention.CheckEvery = config.Duration(time.Hour)
	// No simulated scans within the days this test advances: only the
	// three entries below are in the journal, so it can be counted exactly.
	cfg.Scanner.SimulateEvery = config.Duration(1000 * 24 * time.Hour)
	clk := clock.NewFake(time.Time{})
	j, err := journal.Open(filepath.Join(cfg.DataDir, JournalFile), cfg.Kiosk)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := j.Append(context.Background(), protocol.Entry{Time: clk.Now(), Kind: protocol.KindDelivery,
			Decision: protocol.DecisionRecord, Reasons: []string{protocol.ReasonParcel}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := j.Ack(context.Background(), 2, clk.Now()); err != nil {
		t.Fatal(err)
	}
	j.Close()

	d := openDaemon(t, cfg, clk)
	runDaemon(t, d)
	testkit.Eventually(t, "the daemon waiting on its clock", func() bool { return clk.Waiters() > 0 })
	if n := d.purged.Load(); n != 0 {
		t.Fatalf("purged %d entries at start, want none: they are not a day old", n)
	}
	clk.Advance(25 * time.Hour)
	testkit.Eventually(t, "the two acknowledged entries purged", func() bool { return d.purged.Load() == 2 })
	st, err := d.journal.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.AckedSeq != 2 || st.LastSeq != 3 || st.Entries != 1 {
		t.Errorf("journal = %+v, want the unacknowledged entry (seq 3) kept and the 2 acknowledged gone", st)
	}
}
