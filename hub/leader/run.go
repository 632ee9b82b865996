package leader

import (
	"cmp"
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatepost/gatepost/internal/clock"
)

// DefaultRetry is how often a replica that does not lead asks for the
// lease again, and how long a job that returned while leading waits
// before it runs again.
const DefaultRetry = 2 * time.Second

// Elector grants this replica named leases. The consumer is Runner.
type Elector interface {
	// Acquire waits until this replica holds the lease named and returns
	// it, or returns an error (the database is unreachable; ctx ended).
	Acquire(ctx context.Context, name string) (Lease, error)
}

// Lease is a lease held.
type Lease interface {
	// Lost is closed when the lease is lost: its holder can no longer
	// tell that it still holds it, and another replica may take it.
	Lost() <-chan struct{}
	// Release gives the lease up, so that another replica may take it at
	// once, and frees what held it. It waits for nothing but that.
	Release()
}

// Runner runs jobs, each only while this replica holds the lease of the
// job's name. Its zero value needs Elector; the rest has defaults.
type Runner struct {
	Elector Elector
	Clock   clock.Clock  // the retry waits; nil is the wall clock
	Log     *slog.Logger // nil discards
	Retry   time.Duration

	mu   sync.Mutex
	jobs map[string]time.Time // by job: since when this replica leads it; zero: it does not
}

// Status is one job's lease as this replica sees it.
type Status struct {
	Job     string
	Leading bool
	Since   time.Time // when this replica took the lease; zero when not Leading
}

// Run runs job only while this replica holds the lease named name, until
// ctx ends: (&Runner{Elector: e}).Run(ctx, name, job).
func Run(ctx context.Context, e Elector, name string, job func(ctx context.Context)) {
	(&Runner{Elector: e}).Run(ctx, name, job)
}

// Run waits for the lease named name and runs job while it is held. When
// the lease is lost, job's context is cancelled and Run waits for job to
// return before it asks for the lease again. A job that returns while the
// lease is held runs again after Retry, as long as the lease is held.
// When ctx ends, job's context is cancelled, Run waits for it and
// releases the lease. Each job's name must be unique to the Runner.
func (r *Runner) Run(ctx context.Context, name string, job func(ctx context.Context)) {
	r.set(name, time.Time{})
	failing := false // said once per outage, not at every retry
	for ctx.Err() == nil {
		lease, err := r.Elector.Acquire(ctx, name)
		switch {
		case ctx.Err() != nil:
			if lease != nil {
				lease.Release()
			}
			return
		case err != nil && !failing:
			failing = true
			r.log().Warn("cannot ask for the lease of a once-only job; trying again every few seconds", "job", name, "err", err)
		case err != nil:
			r.log().Debug("still cannot ask for the lease of a once-only job", "job", name, "err", err)
		default:
			failing = false
			r.lead(ctx, name, lease, job)
		}
		if !r.wait(ctx, nil) {
			return
		}
	}
}

// lead runs job until the lease is lost or ctx ends, and releases it.
func (r *Runner) lead(ctx context.Context, name string, lease Lease, job func(context.Context)) {
	defer lease.Release()
	r.set(name, clock.Or(r.Clock).Now())
	defer r.set(name, time.Time{})
	r.log().Info("this replica now runs a once-only job", "job", name)
	for {
		jobCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			job(jobCtx)
		}()
		select {
		case <-lease.Lost():
			cancel()
			<-done
			r.log().Warn("lost the lease of a once-only job: it stopped here, another replica may take it", "job", name)
			return
		case <-ctx.Done():
			cancel()
			<-done
			return
		case <-done:
			cancel()
		}
		if ctx.Err() != nil || !r.wait(ctx, lease.Lost()) {
			return
		}
		r.log().Warn("a once-only job returned while this replica leads; running it again", "job", name)
	}
}

// wait waits Retry; false if ctx ended or lost was closed first.
func (r *Runner) wait(ctx context.Context, lost <-chan struct{}) bool {
	t := clock.Or(r.Clock).NewTimer(cmp.Or(r.Retry, DefaultRetry))
	defer t.Stop()
	select {
	case <-t.C():
		return true
	case <-ctx.Done():
	case <-lost:
	}
	return false
}

func (r *Runner) set(name string, since time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.jobs == nil {
		r.jobs = map[string]time.Time{}
	}
	r.jobs[name] = since
}

func (r *Runner) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

// Status lists the jobs Run was called with, by name, and whether this
// replica leads each.
func (r *Runner) Status() []Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Status, 0, len(r.jobs))
	for job, since := range r.jobs {
		out = append(out, Status{Job: job, Leading: !since.IsZero(), Since: since})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Job < out[j].Job })
	return out
}

var descLeader = prometheus.NewDesc("gatepost_hub_leader",
	"1 while this replica runs the once-only job (it holds its lease), 0 while another replica does.", []string{"job"}, nil)

// Describe and Collect make a Runner a prometheus.Collector of
// gatepost_hub_leader{job}.
func (r *Runner) Describe(ch chan<- *prometheus.Desc) { ch <- descLeader }

// Collect reports each job's gatepost_hub_leader.
func (r *Runner) Collect(ch chan<- prometheus.Metric) {
	for _, s := range r.Status() {
		v := 0.0
		if s.Leading {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descLeader, prometheus.GaugeValue, v, s.Job)
	}
}

var _ prometheus.Collector = (*Runner)(nil)

// Alone is the elector of a hub that is the only one (on SQLite): it
// always leads, and never loses a lease.
type Alone struct{}

var _ Elector = Alone{}

// Acquire returns a lease at once.
func (Alone) Acquire(context.Context, string) (Lease, error) { return aloneLease{}, nil }

type aloneLease struct{}

func (aloneLease) Lost() <-chan struct{} { return nil }
func (aloneLease) Release()              {}
