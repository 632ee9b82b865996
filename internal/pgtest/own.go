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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL)
	if err != nil {
		tb.Fatalf("connect to the test's own PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "ALTER SYSTEM SET synchronous_commit = on"); err != nil {
		tb.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		tb.Fatal(err)
	}
	return c
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
