package leader

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatepost/gatepost/internal/pgtest"
	"github.com/gatepost/gatepost/internal/testkit"
)

// Fast timings for the tests: the bounds below are multiples of them.
const (
	testBeat = 200 * time.Millisecond
	// takeover bounds how long another replica takes to run the job once
	// its holder is gone: a heartbeat to notice, a retry, a try.
	takeover = 5 * time.Second
)

// replica is one hub replica's runner of one job on a shared database.
type replica struct {
	name    string
	elector *Postgres
	runner  *Runner
	running atomic.Bool
	runs    atomic.Int32
	stopped chan struct{} // a run's context was cancelled
	stop    func()
}

// startReplicas runs job "alerts" on n replicas of one database; busy
// counts the replicas running it at once, and max the most ever.
func startReplicas(t *testing.T, url string, n int, busy, most *atomic.Int32) []*replica {
	t.Helper()
	var out []*replica
	for i := range n {
		r := &replica{name: fmt.Sprintf("replica-%c", 'a'+i), stopped: make(chan struct{}, 16)}
		r.elector = &Postgres{URL: url, Replica: r.name, Heartbeat: testBeat}
		r.runner = &Runner{Elector: r.elector, Retry: testBeat}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() {
			r.runner.Run(ctx, "alerts", func(ctx context.Context) {
				r.runs.Add(1)
				r.running.Store(true)
				n := busy.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				<-ctx.Done()
				busy.Add(-1)
				r.running.Store(false)
				r.stopped <- struct{}{}
			})
		})
		r.stop = func() { cancel(); wg.Wait() }
		t.Cleanup(r.stop)
		out = append(out, r)
	}
	return out
}

func leaderOf(rs []*replica) *replica {
	for _, r := range rs {
		if r.running.Load() {
			return r
		}
	}
	return nil
}

func TestOneReplicaRunsTheJob(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	var busy, most atomic.Int32
	rs := startReplicas(t, url, 3, &busy, &most)
	testkit.Eventually(t, "one replica runs the job", func() bool { return busy.Load() == 1 })
	// Several heartbeats and retries later, still only one.
	deadline := time.Now().Add(10 * testBeat)
	testkit.Eventually(t, "ten heartbeats", func() bool { return time.Now().After(deadline) })
	if m := most.Load(); m != 1 {
		t.Fatalf("%d replicas ran the job at once, want 1", m)
	}
	// On a loaded machine a late heartbeat can move the lease meanwhile
	// (never to two at once, checked above): the holder and the statuses
	// are compared on a moment when one replica runs the job.
	testkit.EventuallyState(t, 20*time.Second, "the holder in the database is the replica running the job", func() (bool, string) {
		l := leaderOf(rs)
		if l == nil {
			return false, "no replica runs it (the lease is moving)"
		}
		holder, err := rs[0].elector.Holder(t.Context(), "alerts")
		if err != nil || holder != l.name {
			return false, fmt.Sprintf("Holder(alerts) = %q, %v; running on %q", holder, err, l.name)
		}
		for _, r := range rs {
			if st := r.runner.Status(); len(st) != 1 || st[0].Leading != (r == l) {
				return false, fmt.Sprintf("%s: Status = %+v, want leading %v", r.name, st, r == l)
			}
		}
		return leaderOf(rs) == l, "the lease moved while it was read"
	})
	if most.Load() != 1 {
		t.Fatalf("%d replicas ran the job at once, want 1", most.Load())
	}
	if got, err := rs[0].elector.Holder(t.Context(), "retention"); err != nil || got != "" {
		t.Errorf("Holder(retention) = %q, %v; want no one", got, err)
	}
}

// Ending the holder's session on the server (as a failover, an admin or
// a dead network does) cancels its job at once, and another replica
// takes over within the bound; never two at once.
func TestTerminatedHolderLosesAndAnotherTakesOver(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	var busy, most atomic.Int32
	rs := startReplicas(t, url, 2, &busy, &most)
	var old *replica
	testkit.Eventually(t, "one replica runs the job", func() bool {
		old = leaderOf(rs)
		return busy.Load() == 1 && old != nil
	})

	admin, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	var killed bool
	if err := admin.QueryRow(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`,
		AppName(old.name, "alerts")).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate %s's session: %v, %v", old.name, killed, err)
	}
	start := time.Now()
	recv(t, old.stopped, "the old holder's job cancelled")
	if lost := time.Since(start); lost > 3*testBeat {
		t.Errorf("the old holder stopped its job %v after losing its session, want within %v (a heartbeat and a bit)", lost, 3*testBeat)
	}
	testkit.Eventually(t, "another replica runs the job", func() bool {
		l := leaderOf(rs)
		return l != nil && l != old
	})
	if took := time.Since(start); took > takeover {
		t.Errorf("takeover took %v, want within %v", took, takeover)
	}
	if m := most.Load(); m != 1 {
		t.Fatalf("%d replicas ran the job at once, want 1", m)
	}
}

// A replica that stops releases the lock at once: the other does not wait
// for the session to time out.
func TestStoppedHolderHandsOver(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	var busy, most atomic.Int32
	rs := startReplicas(t, url, 2, &busy, &most)
	var old *replica
	testkit.Eventually(t, "one replica runs the job", func() bool {
		old = leaderOf(rs)
		return busy.Load() == 1 && old != nil
	})
	start := time.Now()
	old.stop()
	testkit.Eventually(t, "the other replica runs the job", func() bool {
		l := leaderOf(rs)
		return l != nil && l != old
	})
	if took := time.Since(start); took > takeover {
		t.Errorf("handover took %v, want within %v", took, takeover)
	}
}

// holdEnv makes the test binary a replica process that takes the lock,
// says so on stdout and waits to be killed.
const holdEnv = "GATEPOST_LEADER_HOLD"

func TestHelperHoldTheLock(t *testing.T) {
	url := os.Getenv(holdEnv)
	if url == "" {
		t.Skip("run by TestKilledProcessLetsGo")
	}
	Run(context.Background(), &Postgres{URL: url, Replica: "doomed", Heartbeat: testBeat}, "alerts", func(ctx context.Context) {
		fmt.Println("HOLDING")
		<-ctx.Done()
	})
}

// A replica process killed with SIGKILL says no goodbye: its connection
// closes with it, PostgreSQL frees the lock, and another replica takes
// the job within the bound.
func TestKilledProcessLetsGo(t *testing.T) {
	t.Parallel()
	url := pgtest.Database(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldTheLock$", "-test.count=1")
	cmd.Env = append(os.Environ(), holdEnv+"="+url)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	held := make(chan struct{})
	go func() {
		buf := make([]byte, 64)
		n, _ := out.Read(buf)
		if string(buf[:n]) == "HOLDING\n" {
			close(held)
		}
	}()
	recv(t, held, "the other process holds the lock")

	var busy, most atomic.Int32
	rs := startReplicas(t, url, 1, &busy, &most)
	el := &Postgres{URL: url}
	if h, err := el.Holder(t.Context(), "alerts"); err != nil || h != "doomed" {
		t.Fatalf("Holder = %q, %v; want doomed", h, err)
	}
	deadline := time.Now().Add(5 * testBeat)
	testkit.Eventually(t, "five heartbeats", func() bool { return time.Now().After(deadline) })
	if rs[0].runs.Load() != 0 {
		t.Fatal("this replica ran the job while another process held the lock")
	}
	start := time.Now()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "this replica runs the job", rs[0].running.Load)
	if took := time.Since(start); took > takeover {
		t.Errorf("takeover after SIGKILL took %v, want within %v", took, takeover)
	}
}
