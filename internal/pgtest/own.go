package pgtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a PostgreSQL server of one test's own, made by .ci/postgres:
// a test that restarts or kills the server cannot use the shared one.
type Cluster struct {
	// URL is its "postgres" database, as a superuser.
	URL    string
	script string
	dir    string
}

// Own starts a throwaway PostgreSQL for tb alone (about three seconds)
// and stops it, removing its files, when tb ends. Without PostgreSQL's
// server installed it skips on a developer's machine and fails under CI.
func Own(tb testing.TB) *Cluster {
	tb.Helper()
	script, err := ciScript()
	if err != nil {
		tb.Fatal(err)
	}
	// Under /tmp, not tb.TempDir(): as root the cluster belongs to another
	// user, who must reach the folder, and a socket's path is short.
	dir, err := os.MkdirTemp("", "gatepost-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{script: script, dir: dir}
	out, err := exec.Command(script, "start", dir).Output()
	if err != nil {
		msg := runError(err)
		os.RemoveAll(dir)
		if strings.Contains(msg, "not installed") && os.Getenv("CI") == "" {
			tb.Skip("no PostgreSQL server for a cluster of the test's own: " + msg)
		}
		tb.Fatalf("start a PostgreSQL of the test's own (%s start): %s", script, msg)
	}
	tb.Cleanup(func() {
		if out, err := exec.Command(script, "stop", dir).CombinedOutput(); err != nil {
			tb.Errorf("stop the test's PostgreSQL: %v\n%s", err, out)
		}
	})
	c.URL = strings.TrimSpace(string(out))
	// .ci/postgres turns synchronous_commit off for speed: a commit then
	// returns before its WAL reaches even the operating system, and a
	// crash (Restart) loses it. A hub acks what committed, so a test that
	// crashes the server wants commits kept, as a deployed server keeps
	// them (docs/scale.md). fsync stays off: the machine does not crash.
	ctx, conn, done := c.admin(tb)
	defer done()
	if _, err := conn.Exec(ctx, "ALTER SYSTEM SET synchronous_commit = on"); err != nil {
		tb.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		tb.Fatal(err)
	}
	return c
}

// admin connects to c as its superuser, for up to 60s of work; done
// closes the connection.
func (c *Cluster) admin(tb testing.TB) (ctx context.Context, conn *pgx.Conn, done func()) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	conn, err := pgx.Connect(ctx, c.URL)
	if err != nil {
		cancel()
		tb.Fatalf("connect to the test's PostgreSQL at %s: %v", c.URL, err)
	}
	return ctx, conn, func() { conn.Close(context.Background()); cancel() }
}

// Restart stops the server at once, as a crash would (every connection
// broken, crash recovery at start), and starts it again on the same
// socket. It returns once the server accepts connections.
func (c *Cluster) Restart(tb testing.TB) {
	tb.Helper()
	if err := exec.Command(c.script, "restart", c.dir).Run(); err != nil {
		tb.Fatalf("restart the test's PostgreSQL: %s", runError(err))
	}
}

// ciScript finds .ci/postgres in the module that holds the working
// directory (a test runs in its package's folder).
func ciScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".ci", "postgres"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

func runError(err error) string {
	if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
		return strings.TrimSpace(string(ee.Stderr))
	}
	return err.Error()
}

// Standby makes a streaming standby of c, a cluster of the test's own,
// and has every commit on c wait until the standby holds it
// (synchronous_standby_names = '*'), as docs/scale.md asks of a deployed
// primary. It returns once the standby streams synchronously; it is
// stopped, its files removed, when tb ends.
func (c *Cluster) Standby(tb testing.TB) *Cluster {
	tb.Helper()
	dir, err := os.MkdirTemp("", "gatepost-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command(c.script, "standby", dir, c.dir).Output()
	if err != nil {
		os.RemoveAll(dir)
		tb.Fatalf("start a standby of the test's PostgreSQL: %s", runError(err))
	}
	s := &Cluster{script: c.script, dir: dir, URL: strings.TrimSpace(string(out))}
	tb.Cleanup(func() {
		if out, err := exec.Command(c.script, "stop", dir).CombinedOutput(); err != nil {
			tb.Errorf("stop the test's standby: %v\n%s", err, out)
		}
	})
	ctx, conn, done := c.admin(tb)
	defer done()
	for _, q := range []string{"ALTER SYSTEM SET synchronous_standby_names = '*'", "SELECT pg_reload_conf()"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			tb.Fatal(err)
		}
	}
	for {
		var sync int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'`).Scan(&sync); err != nil {
			tb.Fatal(err)
		}
		if sync > 0 {
			return s
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("the standby does not stream synchronously within 60s")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Crash stops the server at once, as a crash would, and leaves it
// stopped.
func (c *Cluster) Crash(tb testing.TB) {
	tb.Helper()
	if err := exec.Command(c.script, "crash", c.dir).Run(); err != nil {
		tb.Fatalf("crash the test's PostgreSQL: %s", runError(err))
	}
}

// Promote makes a standby the primary, and returns once it takes writes.
func (c *Cluster) Promote(tb testing.TB) {
	tb.Helper()
	if err := exec.Command(c.script, "promote", c.dir).Run(); err != nil {
		tb.Fatalf("promote the test's standby: %s", runError(err))
	}
	ctx, conn, done := c.admin(tb)
	defer done()
	for {
		var recovering bool
		if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&recovering); err != nil {
			tb.Fatalf("the promoted standby does not take writes within 60s: %v", err)
		}
		if !recovering {
			return
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("the promoted standby does not take writes within 60s")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// FailoverURL is the URL of the "postgres" database on whichever of cs
// takes writes: the hosts in turn, with target_session_attrs=read-write,
// as docs/scale.md gives a hub for a primary and its standbys.
func FailoverURL(cs ...*Cluster) string {
	hosts := make([]string, len(cs))
	for i, c := range cs {
		hosts[i] = c.dir
	}
	return "postgres://gatepost@/postgres?host=" + strings.Join(hosts, ",") + "&target_session_attrs=read-write"
}

// SyncRepWaiters are c's backends waiting for a synchronous standby.
func (c *Cluster) SyncRepWaiters(tb testing.TB) map[int32]bool {
	tb.Helper()
	ctx, conn, done := c.admin(tb)
	defer done()
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep'`)
	if err != nil {
		tb.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		tb.Fatal(err)
	}
	waiting := map[int32]bool{}
	for _, p := range pids {
		waiting[p] = true
	}
	return waiting
}

// WaitForSyncRep waits up to 30s until a backend of c other than those
// before (SyncRepWaiters, read before the change began) waits for a
// synchronous standby, and returns its pid; it fails the test if done
// answers first.
func (c *Cluster) WaitForSyncRep(tb testing.TB, before map[int32]bool, done <-chan error) int32 {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for p := range c.SyncRepWaiters(tb) {
			if !before[p] {
				return p
			}
		}
		if time.Now().After(deadline) {
			tb.Fatal("no commit waits for the standby within 30s")
		}
		select {
		case err := <-done:
			tb.Fatalf("the change answered (%v) before its commit waited for the standby", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// CancelBackend cancels what c's backend pid runs (pg_cancel_backend),
// as an administrator or a statement_timeout would.
func (c *Cluster) CancelBackend(tb testing.TB, pid int32) {
	tb.Helper()
	ctx, conn, done := c.admin(tb)
	defer done()
	if _, err := conn.Exec(ctx, `SELECT pg_cancel_backend($1)`, pid); err != nil {
		tb.Fatal(err)
	}
}
