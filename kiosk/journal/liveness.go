package journal

import (
	"context"
	"fmt"
	"strings"
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

// QuickCheck runs SQLite's PRAGMA quick_check: nil when the file is
// sound, else an error holding SQLite's first findings. It reads the
// whole file, so it is for `kiosk doctor`, not for the watchdog.
func (j *Journal) QuickCheck(ctx context.Context) error {
	rows, err := j.db.QueryContext(ctx, `PRAGMA quick_check(5)`)
	if err != nil {
		return fmt.Errorf("journal quick_check: %w", err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("journal quick_check: %w", err)
		}
		found = append(found, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("journal quick_check: %w", err)
	}
	if len(found) == 1 && found[0] == "ok" {
		return nil
	}
	return fmt.Errorf("journal %s is damaged: %s", j.path, strings.Join(found, "; "))
}
