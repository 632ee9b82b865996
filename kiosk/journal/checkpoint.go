package journal

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
)

// SQLite in WAL mode appends each commit to the write-ahead log and, once
// the log holds wal_autocheckpoint pages, copies it into the database
// inside whichever commit crossed the line: that commit pays for a few
// hundred page writes and two more fsyncs. At a gate the commit is the
// step between a scan and the screen, so the journal folds the log in
// itself, on its own connection, once nobody has been written for a
// moment. PASSIVE never blocks the writer; a gate that is never idle
// still has SQLite's checkpoint as the safety net.
const (
	// autoCheckpointPages is SQLite's own trigger, its default: 4 MiB of
	// log at 4 KiB pages. Once the log file has grown, later commits
	// overwrite it rather than grow it, which is the cheaper fsync, so it
	// is not raised.
	autoCheckpointPages = 1000
	// checkpointEvery is the number of writes after which an idle moment
	// is used; fewer writes wait for checkpointQuiet.
	checkpointEvery = 128
	// checkpointQuiet folds in even a few writes after a long quiet spell,
	// so a quiet gate's log does not sit unfolded for hours.
	checkpointQuiet = time.Minute
)

// idleCheckpointAfter is how long the journal must be quiet before it
// checkpoints, unless Options.IdleCheckpoint says otherwise.
const idleCheckpointAfter = 500 * time.Millisecond

// checkpointer runs PASSIVE checkpoints when the journal is idle.
type checkpointer struct {
	path  string
	idle  time.Duration
	clock clock.Clock
	wrote chan int
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup

	mu    sync.Mutex
	stats CheckpointStats
}

// CheckpointStats counts the journal's idle checkpoints.
type CheckpointStats struct {
	Runs      int64 // checkpoints run
	Frames    int64 // log frames in the database after each run, summed
	Failures  int64 // checkpoints that failed (the log stays; nothing is lost)
	LastError string
}

func startCheckpointer(path string, idle time.Duration, clk clock.Clock) *checkpointer {
	c := &checkpointer{path: path, idle: idle, clock: clk, wrote: make(chan int, 64), done: make(chan struct{})}
	c.wg.Add(1)
	go c.run()
	return c
}

// wrote tells the checkpointer that n rows were committed. It never
// blocks a writer: when the checkpointer is behind, the count is dropped
// and the next write or the quiet timer brings it round.
func (j *Journal) wrote(n int) {
	if j.ckpt == nil {
		return
	}
	select {
	case j.ckpt.wrote <- n:
	default:
	}
}

func (c *checkpointer) stop() {
	c.once.Do(func() { close(c.done) })
	c.wg.Wait()
}

func (c *checkpointer) run() {
	defer c.wg.Done()
	var db *sql.DB
	defer func() {
		if db != nil {
			db.Close()
		}
	}()
	pending := 0
	var first time.Time // first write since the last checkpoint
	timer := c.clock.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-c.done:
			return
		case n := <-c.wrote:
			if pending == 0 {
				first = c.clock.Now()
			}
			pending += n
			timer.Reset(c.idle)
		case <-timer.C():
			if pending == 0 {
				continue
			}
			if pending < checkpointEvery && c.clock.Since(first) < checkpointQuiet {
				timer.Reset(checkpointQuiet - c.clock.Since(first))
				continue
			}
			if db == nil {
				var err error
				if db, err = sql.Open("sqlite", dsn(c.path, false)); err != nil {
					c.failed(err)
					continue
				}
				db.SetMaxOpenConns(1)
			}
			pages, err := checkpoint(db)
			if err != nil {
				c.failed(err)
				timer.Reset(c.idle * 4)
				continue
			}
			c.mu.Lock()
			c.stats.Runs++
			c.stats.Frames += pages
			c.mu.Unlock()
			pending = 0
		}
	}
}

func (c *checkpointer) failed(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Failures++
	c.stats.LastError = err.Error()
}

// checkpoint runs one PASSIVE checkpoint and returns the pages copied.
func checkpoint(db *sql.DB) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var busy, log, done int64
	if err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err != nil {
		return 0, fmt.Errorf("journal checkpoint: %w", err)
	}
	return done, nil
}

// CheckpointStats reports the idle checkpoints run so far.
func (j *Journal) CheckpointStats() CheckpointStats {
	if j.ckpt == nil {
		return CheckpointStats{}
	}
	j.ckpt.mu.Lock()
	defer j.ckpt.mu.Unlock()
	return j.ckpt.stats
}
