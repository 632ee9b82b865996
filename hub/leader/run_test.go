package leader

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/testkit"
)

// handElector grants a lease each time the test hands one over, and
// counts the asks.
type handElector struct {
	grant chan Lease
	fail  chan error
	asks  atomic.Int32
}

func newHandElector() *handElector {
	return &handElector{grant: make(chan Lease), fail: make(chan error)}
}

func (e *handElector) Acquire(ctx context.Context, _ string) (Lease, error) {
	e.asks.Add(1)
	select {
	case l := <-e.grant:
		return l, nil
	case err := <-e.fail:
		return nil, err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type handLease struct {
	lost     chan struct{}
	released atomic.Bool
}

func newHandLease() *handLease             { return &handLease{lost: make(chan struct{})} }
func (l *handLease) Lost() <-chan struct{} { return l.lost }
func (l *handLease) Release()              { l.released.Store(true) }

// job counts its runs and reports each start and end.
type job struct {
	runs    atomic.Int32
	running atomic.Int32
	started chan struct{}
	ended   chan struct{}
	once    bool // return at once instead of waiting for ctx
}

func newJob() *job { return &job{started: make(chan struct{}, 16), ended: make(chan struct{}, 16)} }

func (j *job) run(ctx context.Context) {
	j.runs.Add(1)
	j.running.Add(1)
	defer j.running.Add(-1)
	j.started <- struct{}{}
	defer func() { j.ended <- struct{}{} }()
	if !j.once {
		<-ctx.Done()
	}
}

func recv(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: did not happen within 10 s", what)
	}
}

func startRunner(t *testing.T, r *Runner, name string, j *job) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx, name, j.run) })
	return func() { cancel(); wg.Wait() }
}

func TestJobRunsOnlyWhileTheLeaseIsHeld(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Unix(1_700_000_000, 0))
	e := newHandElector()
	r := &Runner{Elector: e, Clock: fake}
	j := newJob()
	stop := startRunner(t, r, "alerts", j)
	defer stop()

	testkit.Eventually(t, "the runner asks for the lease", func() bool { return e.asks.Load() == 1 })
	if j.runs.Load() != 0 {
		t.Fatal("the job ran before the lease was granted")
	}
	if st := r.Status(); len(st) != 1 || st[0].Leading {
		t.Fatalf("Status before the lease = %+v, want alerts not leading", st)
	}
	lease := newHandLease()
	e.grant <- lease
	recv(t, j.started, "the job starts once the lease is held")
	if st := r.Status(); len(st) != 1 || !st[0].Leading || !st[0].Since.Equal(fake.Now()) {
		t.Fatalf("Status while leading = %+v, want alerts leading since %v", st, fake.Now())
	}

	close(lease.lost)
	recv(t, j.ended, "the job's context is cancelled when the lease is lost")
	testkit.Eventually(t, "the lost lease released", lease.released.Load)
	if st := r.Status(); st[0].Leading {
		t.Fatalf("Status after the loss = %+v, want not leading", st)
	}
	// It asks again after Retry, not before.
	fake.BlockUntil(1)
	if n := e.asks.Load(); n != 1 {
		t.Fatalf("asked %d times before Retry passed, want 1", n)
	}
	fake.Advance(DefaultRetry)
	testkit.Eventually(t, "the runner asks again after Retry", func() bool { return e.asks.Load() == 2 })
	if n := j.runs.Load(); n != 1 {
		t.Fatalf("the job ran %d times, want 1: it must not run without the lease", n)
	}
}

func TestJobThatReturnsRunsAgainOnlyWhileLeading(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Unix(1_700_000_000, 0))
	e := newHandElector()
	r := &Runner{Elector: e, Clock: fake, Retry: time.Second}
	j := newJob()
	j.once = true
	stop := startRunner(t, r, "retention", j)
	defer stop()

	lease := newHandLease()
	e.grant <- lease
	recv(t, j.started, "first run")
	recv(t, j.ended, "first run returns")
	fake.BlockUntil(1)
	fake.Advance(time.Second)
	recv(t, j.started, "the job runs again after Retry while leading")
	recv(t, j.ended, "second run returns")

	fake.BlockUntil(1)
	close(lease.lost)
	testkit.Eventually(t, "the lease released once lost", lease.released.Load)
	fake.BlockUntil(1)
	fake.Advance(10 * time.Second)
	testkit.Eventually(t, "the runner asks for the lease again", func() bool { return e.asks.Load() == 2 })
	if n := j.runs.Load(); n != 2 {
		t.Fatalf("the job ran %d times, want 2: a lost lease must not restart it", n)
	}
}

func TestStopCancelsTheJobAndReleases(t *testing.T) {
	t.Parallel()
	e := newHandElector()
	r := &Runner{Elector: e, Clock: clock.NewFake(time.Unix(1_700_000_000, 0))}
	j := newJob()
	stop := startRunner(t, r, "feed", j)
	lease := newHandLease()
	e.grant <- lease
	recv(t, j.started, "the job starts")
	stop()
	if j.running.Load() != 0 {
		t.Fatal("Run returned with the job still running")
	}
	if !lease.released.Load() {
		t.Fatal("Run returned without releasing the lease: another replica would wait for the session to end")
	}
}

func TestAcquireErrorIsRetried(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Unix(1_700_000_000, 0))
	e := newHandElector()
	r := &Runner{Elector: e, Clock: fake}
	j := newJob()
	stop := startRunner(t, r, "verify", j)
	defer stop()
	e.fail <- errors.New("connection refused")
	fake.BlockUntil(1)
	fake.Advance(DefaultRetry)
	testkit.Eventually(t, "asked again after the error", func() bool { return e.asks.Load() == 2 })
	e.grant <- newHandLease()
	recv(t, j.started, "the job starts once the database answers")
}

func TestAloneAlwaysLeadsAndReports(t *testing.T) {
	t.Parallel()
	r := &Runner{Elector: Alone{}}
	reg := prometheus.NewRegistry()
	reg.MustRegister(r)
	j := newJob()
	stop := startRunner(t, r, "alerts", j)
	recv(t, j.started, "the job starts at once")
	if got := gauge(t, reg, "alerts"); got != 1 {
		t.Errorf("gatepost_hub_leader{job=alerts} while leading = %v, want 1", got)
	}
	stop()
	if got := gauge(t, reg, "alerts"); got != 0 {
		t.Errorf("gatepost_hub_leader{job=alerts} after stop = %v, want 0", got)
	}
}

// gauge reads gatepost_hub_leader{job} from reg; -1 when absent.
func gauge(t *testing.T, reg *prometheus.Registry, job string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "gatepost_hub_leader" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "job" && l.GetValue() == job {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}
