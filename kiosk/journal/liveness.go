package journal

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// writers tracks the writes in progress, so that a writer stuck inside
// one (a wedged disk, a lock never released) can be told from a journal
// that is merely idle: the kiosk's watchdog (kiosk/daemon) stops telling
// systemd it is alive once a write has run for too long.
type writers struct {
	mu      sync.Mutex
	next    uint64
	started map[uint64]time.Time
}

// begin records a write starting now; the returned func records its end.
func (j *Journal) begin() func() {
	w := &j.writers
	now := j.clock.Now()
	w.mu.Lock()
	if w.started == nil {
		w.started = make(map[uint64]time.Time)
	}
	w.next++
	id := w.next
	w.started[id] = now
	w.mu.Unlock()
	if j.inWrite != nil {
		j.inWrite()
	}
	return func() {
		w.mu.Lock()
		delete(w.started, id)
		w.mu.Unlock()
	}
}

// Stuck returns an error when a write has been in progress for longer
// than limit, nil when every write in progress (if any) is younger.
func (j *Journal) Stuck(limit time.Duration) error {
	w := &j.writers
	now := j.clock.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range w.started {
		if age := now.Sub(t); age > limit {
			return fmt.Errorf("a journal write has been in progress for %s (limit %s)", age.Round(time.Millisecond), limit)
		}
	}
	return nil
}

// CheckWrite proves the journal can be written now: it takes SQLite's
// write lock and gives it back, writing nothing. It fails when ctx ends
// first (the one connection is held by a stuck write, or another
// process holds the lock) or the file is read-only.
func (j *Journal) CheckWrite(ctx context.Context) error {
	if j.ckpt == nil {
		return fmt.Errorf("journal %s is open read-only", j.path)
	}
	conn, err := j.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("journal write check: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("journal write check: %w", err)
	}
	if _, err := conn.ExecContext(context.Background(), `ROLLBACK`); err != nil {
		return fmt.Errorf("journal write check: %w", err)
	}
	return nil
}
