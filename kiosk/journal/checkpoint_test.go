package journal

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

// openIdle opens a journal whose idle checkpoints wait idle on a fake
// clock.
func openIdle(t *testing.T, idle time.Duration) (*Journal, string, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Time{})
	path := filepath.Join(t.TempDir(), "journal.db")
	j, err := OpenWith(path, "gate-1", Options{Clock: clk, IdleCheckpoint: idle})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j, path, clk
}

// waitRuns advances clk by step until the journal has run runs checkpoints.
func waitRuns(t *testing.T, j *Journal, clk *clock.Fake, step time.Duration, runs int64) CheckpointStats {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("%d checkpoint runs", runs), func() bool {
		clk.Advance(step)
		return j.CheckpointStats().Runs >= runs
	})
	return j.CheckpointStats()
}

// countMainFile counts the entries in the database file alone, without
// its write-ahead log: what a checkpoint has folded in.
func countMainFile(t *testing.T, path string) int {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "main-only.db")
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
	db, err := sql.Open("sqlite", "file:"+dst)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'entries'`).Scan(&n); err != nil || n == 0 {
		return 0 // not even the schema has been folded in
	}
	if err := db.QueryRow(`SELECT count(*) FROM entries`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIdleCheckpointFoldsTheLogIn(t *testing.T) {
	j, path, clk := openIdle(t, 50*time.Millisecond)
	appendN(t, j, checkpointEvery+72)
	s := waitRuns(t, j, clk, 50*time.Millisecond, 1)
	if s.Failures != 0 || s.Frames == 0 {
		t.Fatalf("stats %+v: want frames copied and no failures", s)
	}
	if n := countMainFile(t, path); n != checkpointEvery+72 {
		t.Fatalf("database file alone holds %d entries, want %d: the log was not folded in", n, checkpointEvery+72)
	}
}

func TestFewWritesWaitForAQuietSpell(t *testing.T) {
	const idle = 20 * time.Millisecond
	j, path, clk := openIdle(t, idle)
	appendN(t, j, 5)
	testkit.Eventually(t, "the idle timer armed", func() bool { return clk.Waiters() == 1 })
	for i := 0; i < 15; i++ { // fifteen idle periods
		clk.Advance(idle)
		// The timer fired (and left the clock); the checkpointer arms it
		// again once it has judged the write count too small.
		testkit.Eventually(t, "the checkpointer judged the idle moment", func() bool { return clk.Waiters() == 1 })
	}
	if s := j.CheckpointStats(); s.Runs != 0 {
		t.Fatalf("a checkpoint ran for 5 writes after a short idle: %+v", s)
	}
	if n := countMainFile(t, path); n != 0 {
		t.Fatalf("database file alone holds %d entries, want them still in the log", n)
	}
	// After a quiet spell even a few writes are folded in.
	if s := waitRuns(t, j, clk, checkpointQuiet/4, 1); s.Failures != 0 {
		t.Fatalf("stats %+v after a quiet spell", s)
	}
	if n := countMainFile(t, path); n != 5 {
		t.Fatalf("database file alone holds %d entries after a quiet spell, want 5", n)
	}
}

// Appends keep going while checkpoints run on the other connection:
// nothing is lost, nothing waits on the checkpoint, the file stays whole.
func TestAppendsDuringCheckpoints(t *testing.T) {
	j, path, clk := openIdle(t, time.Millisecond)
	ctx := context.Background()
	const n = 1500
	for i := 0; i < n; i++ {
		if _, err := j.Append(ctx, protocoltest.Entry(protocoltest.Scan("x"))); err != nil {
			t.Fatal(err)
		}
		if i%50 == 49 {
			clk.Advance(3 * time.Millisecond) // an idle moment
		}
	}
	s := waitRuns(t, j, clk, 3*time.Millisecond, 2)
	if s.Failures != 0 {
		t.Fatalf("checkpoint failures: %+v", s)
	}
	st, err := j.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != n || st.LastSeq != n {
		t.Fatalf("status %+v, want %d entries", st, n)
	}
	var ok string
	if err := j.db.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q %v", ok, err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j2, err := Open(path, "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if got, err := j2.Unsent(ctx, 0, 2*n); err != nil || len(got) != n {
		t.Fatalf("after reopen: %d entries, %v; want %d", len(got), err, n)
	}
}
