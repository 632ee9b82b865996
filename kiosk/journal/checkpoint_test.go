package journal

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func shortIdle(t *testing.T, d time.Duration) {
	t.Helper()
	old := idleCheckpointAfter
	idleCheckpointAfter = d
	t.Cleanup(func() { idleCheckpointAfter = old })
}

func waitRuns(t *testing.T, j *Journal, runs int64) CheckpointStats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := j.CheckpointStats()
		if s.Runs >= runs {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %+v, want %d checkpoint runs", s, runs)
		}
		time.Sleep(10 * time.Millisecond)
	}
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
	shortIdle(t, 50*time.Millisecond)
	j, path := openTemp(t)
	appendN(t, j, checkpointEvery+72)
	s := waitRuns(t, j, 1)
	if s.Failures != 0 || s.Frames == 0 {
		t.Fatalf("stats %+v: want frames copied and no failures", s)
	}
	if n := countMainFile(t, path); n != checkpointEvery+72 {
		t.Fatalf("database file alone holds %d entries, want %d: the log was not folded in", n, checkpointEvery+72)
	}
}

func TestFewWritesWaitForAQuietSpell(t *testing.T) {
	shortIdle(t, 20*time.Millisecond)
	j, path := openTemp(t)
	appendN(t, j, 5)
	time.Sleep(300 * time.Millisecond) // fifteen idle periods
	if s := j.CheckpointStats(); s.Runs != 0 {
		t.Fatalf("a checkpoint ran for 5 writes after a short idle: %+v", s)
	}
	if n := countMainFile(t, path); n != 0 {
		t.Fatalf("database file alone holds %d entries, want them still in the log", n)
	}
}

// Appends keep going while checkpoints run on the other connection:
// nothing is lost, nothing waits on the checkpoint, the file stays whole.
func TestAppendsDuringCheckpoints(t *testing.T) {
	shortIdle(t, time.Millisecond)
	j, path := openTemp(t)
	ctx := context.Background()
	const n = 1500
	for i := 0; i < n; i++ {
		if _, err := j.Append(ctx, entry("x")); err != nil {
			t.Fatal(err)
		}
		if i%50 == 49 {
			time.Sleep(3 * time.Millisecond) // an idle moment
		}
	}
	s := waitRuns(t, j, 2)
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
