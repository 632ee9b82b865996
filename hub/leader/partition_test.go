package leader

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatepost/gatepost/internal/pgtest"
	"github.com/gatepost/gatepost/internal/testkit"
)

// freezer carries TCP connections to the PostgreSQL server and can freeze
// them: from then on no byte goes either way and nothing is closed, as in
// a network partition.
type freezer struct {
	ln     net.Listener
	dial   func() (net.Conn, error)
	frozen atomic.Bool
	done   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func startFreezer(t *testing.T, dbURL string) (*freezer, string) {
	t.Helper()
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: testkit.Listen(t), done: make(chan struct{})}
	f.dial = func() (net.Conn, error) {
		if filepath.IsAbs(cfg.Host) {
			return net.Dial("unix", filepath.Join(cfg.Host, fmt.Sprintf(".s.PGSQL.%d", cfg.Port)))
		}
		return net.Dial("tcp", net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)))
	}
	f.wg.Go(f.accept)
	t.Cleanup(f.close)
	host, port, _ := net.SplitHostPort(f.ln.Addr().String())
	u, _ := url.Parse(dbURL)
	q := u.Query()
	q.Set("host", host)
	q.Set("port", port)
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	u.Host = ""
	return f, u.String()
}

func (f *freezer) accept() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		up, err := f.dial()
		if err != nil {
			c.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, c, up)
		f.mu.Unlock()
		f.wg.Go(func() { f.pipe(up, c) })
		f.wg.Go(func() { f.pipe(c, up) })
	}
}

// pipe copies src to dst until frozen, then holds on without a word.
func (f *freezer) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if f.frozen.Load() {
			<-f.done
			return
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			if cw, ok := dst.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			}
			return
		}
	}
}

func (f *freezer) close() {
	close(f.done)
	f.ln.Close()
	f.mu.Lock()
	for _, c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// A holder cut off from the database without its connection closing
// stops its job when its heartbeat times out; the server ends its idle
// session after IdleTimeout, freeing the lock, and only then does another
// replica take the job: never two at once.
func TestPartitionedHolderStopsBeforeAnotherTakesOver(t *testing.T) {
	t.Parallel()
	db := pgtest.Database(t)
	proxy, viaProxy := startFreezer(t, db)
	const idle = 2 * time.Second // well above the holder's 3 heartbeats to notice

	var busy, most atomic.Int32
	type run struct {
		name           string
		started, ended atomic.Int64 // unix ns of the last start and end
	}
	startReplica := func(r *run, url string) {
		el := &Postgres{URL: url, Replica: r.name, Heartbeat: testBeat, IdleTimeout: idle}
		runner := &Runner{Elector: el, Retry: testBeat}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() {
			runner.Run(ctx, "alerts", func(ctx context.Context) {
				r.started.Store(time.Now().UnixNano())
				n := busy.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				<-ctx.Done()
				busy.Add(-1)
				r.ended.Store(time.Now().UnixNano())
			})
		})
		t.Cleanup(func() { cancel(); wg.Wait() })
	}
	a, b := &run{name: "cut-off"}, &run{name: "standby"}
	startReplica(a, viaProxy)
	testkit.Eventually(t, "the replica behind the proxy runs the job", func() bool { return a.started.Load() != 0 })
	startReplica(b, db)
	deadline := time.Now().Add(5 * testBeat)
	testkit.Eventually(t, "five heartbeats", func() bool { return time.Now().After(deadline) })

	cut := time.Now()
	proxy.frozen.Store(true)
	testkit.Eventually(t, "the cut-off holder stops its job", func() bool { return a.ended.Load() != 0 })
	if took := time.Duration(a.ended.Load() - cut.UnixNano()); took > idle {
		t.Errorf("the cut-off holder stopped its job %v after the cut, want within %v, before the server frees the lock", took, idle)
	}
	testkit.Eventually(t, "the standby runs the job", func() bool { return b.started.Load() != 0 })
	if a.ended.Load() > b.started.Load() {
		t.Errorf("the standby started before the cut-off holder stopped")
	}
	if took := time.Duration(b.started.Load() - cut.UnixNano()); took > idle+takeover {
		t.Errorf("takeover after the cut took %v, want within %v", took, idle+takeover)
	}
	if m := most.Load(); m != 1 {
		t.Fatalf("%d replicas ran the job at once, want 1", m)
	}
}
