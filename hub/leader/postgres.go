package leader

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gatepost/gatepost/internal/clock"
)

// Defaults for Postgres.
const (
	// DefaultHeartbeat is how often a holder checks that its session
	// still holds the lock; a check that fails or takes twice as long
	// loses the lease.
	DefaultHeartbeat = time.Second
	// DefaultIdleTimeout ends, on the server, a session that sent nothing
	// for this long (PostgreSQL's idle_session_timeout): a holder cut off
	// from the database, which cannot say goodbye, lets go of its lock
	// then. It is well above the heartbeat's loss (2 heartbeats after the
	// last check), so the old holder has stopped its job before another
	// replica can take the lock.
	DefaultIdleTimeout = 10 * time.Second
)

// connectTimeout bounds a connection attempt to a database that does not
// answer (a host gone, packets dropped), which pgx would otherwise wait
// on for as long as the kernel does.
const connectTimeout = 10 * time.Second

// lockClass is the first key of every job's advisory lock ("lead"); the
// second is a hash of the job's name. The stores' migration locks are
// single bigint keys, which PostgreSQL keeps apart from two-key locks.
const lockClass = 0x6c656164

// lockKey is the job's second key: 31 bits of FNV-1a of its name, so it
// is positive whatever the type pg_locks shows it as.
func lockKey(name string) int32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int32(h.Sum32() & 0x7fffffff)
}

// Postgres grants leases as session-level advisory locks
// (pg_try_advisory_lock), each on a connection of its own. A process that
// dies closes its connections and PostgreSQL frees their locks at once; a
// holder whose connection breaks loses the lease at the next heartbeat; a
// holder cut off without the connection closing is ended by the server
// after IdleTimeout.
type Postgres struct {
	URL string // postgres://…; the database the replicas share
	// Replica names this replica: it is in each lock connection's
	// application_name ("gatepost-hub REPLICA JOB"), which Holder reads
	// and pg_stat_activity shows.
	Replica     string
	Heartbeat   time.Duration // default DefaultHeartbeat; also how often a replica that waits tries the lock
	IdleTimeout time.Duration // default DefaultIdleTimeout
	// Grace is how long a replica that has just taken a lock waits before
	// it runs the job: longer than the old holder takes to notice its
	// loss (a heartbeat). Default 3 heartbeats.
	Grace time.Duration
	Clock clock.Clock  // nil is the wall clock
	Log   *slog.Logger // nil discards
}

var _ Elector = (*Postgres)(nil)

// AppName is the application_name of the connection holding or waiting
// for job's lock, cut to PostgreSQL's 63 bytes.
func AppName(replica, job string) string {
	s := "gatepost-hub " + replica + " " + job
	if len(s) > 63 {
		s = s[:63]
	}
	return s
}

func (p *Postgres) connect(ctx context.Context, job string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(p.URL)
	if err != nil {
		return nil, fmt.Errorf("leader: database URL: %w", err)
	}
	cfg.RuntimeParams["application_name"] = AppName(p.Replica, job)
	idle := cmp.Or(p.IdleTimeout, DefaultIdleTimeout)
	cfg.RuntimeParams["idle_session_timeout"] = strconv.FormatInt(idle.Milliseconds(), 10)
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("leader: connect for the lease of %s: %w", job, err)
	}
	return conn, nil
}

// Acquire connects and tries the job's lock every Heartbeat until it has
// it, waits Grace, and returns the lease, which keeps the connection; or
// returns the error when ctx ends or the connection fails.
func (p *Postgres) Acquire(ctx context.Context, job string) (Lease, error) {
	conn, err := p.connect(ctx, job)
	if err != nil {
		return nil, err
	}
	every := cmp.Or(p.Heartbeat, DefaultHeartbeat)
	t := clock.Or(p.Clock).NewTicker(every)
	defer t.Stop()
	for {
		var ok bool
		qctx, cancel := context.WithTimeout(ctx, 2*every)
		err := conn.QueryRow(qctx, `SELECT pg_try_advisory_lock($1::int4, $2::int4)`, lockClass, lockKey(job)).Scan(&ok)
		cancel()
		if err != nil {
			closeConn(conn)
			return nil, fmt.Errorf("leader: try the lock of %s: %w", job, err)
		}
		if ok {
			if err := p.settle(ctx, conn, job); err != nil {
				closeConn(conn)
				return nil, err
			}
			return p.hold(conn, job), nil
		}
		select {
		case <-ctx.Done():
			closeConn(conn)
			return nil, ctx.Err()
		case <-t.C():
		}
	}
}

// settle waits Grace after the lock is taken, then checks it is still
// held. The lock is free the moment the server ends the old holder's
// session, but the old holder learns it only at its next heartbeat: until
// then its job may still be running. Waiting longer than that keeps two
// replicas from running the job at once.
func (p *Postgres) settle(ctx context.Context, conn *pgx.Conn, job string) error {
	every := cmp.Or(p.Heartbeat, DefaultHeartbeat)
	t := clock.Or(p.Clock).NewTimer(cmp.Or(p.Grace, 3*every))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
	}
	var held bool
	qctx, cancel := context.WithTimeout(ctx, 2*every)
	defer cancel()
	if err := conn.QueryRow(qctx, heldQuery, int64(lockClass), int64(lockKey(job))).Scan(&held); err != nil {
		return fmt.Errorf("leader: check the lock of %s: %w", job, err)
	}
	if !held {
		return fmt.Errorf("leader: the lock of %s was taken and then lost", job)
	}
	return nil
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn.Close(ctx)
}

// pgLease is a held lock and its heartbeat, which alone uses the
// connection (a pgx.Conn is not safe for concurrent use).
type pgLease struct {
	lost    chan struct{}
	release chan struct{}
	done    chan struct{}
}

func (p *Postgres) hold(conn *pgx.Conn, job string) *pgLease {
	l := &pgLease{lost: make(chan struct{}), release: make(chan struct{}), done: make(chan struct{})}
	go l.heartbeat(conn, job, cmp.Or(p.Heartbeat, DefaultHeartbeat), clock.Or(p.Clock), p.Log)
	return l
}

func (l *pgLease) Lost() <-chan struct{} { return l.lost }

// Release stops the heartbeat, unlocks and closes the connection.
func (l *pgLease) Release() {
	select {
	case <-l.release:
	default:
		close(l.release)
	}
	<-l.done
}

// heldQuery is true while this session holds the job's lock; it is false
// if anything (pg_advisory_unlock_all, a pooler's reset) took it away.
const heldQuery = `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
	AND granted AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 2)`

func (l *pgLease) heartbeat(conn *pgx.Conn, job string, every time.Duration, clk clock.Clock, log *slog.Logger) {
	defer close(l.done)
	defer closeConn(conn)
	t := clk.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.release:
			ctx, cancel := context.WithTimeout(context.Background(), every)
			_, _ = conn.Exec(ctx, `SELECT pg_advisory_unlock($1::int4, $2::int4)`, lockClass, lockKey(job))
			cancel()
			return
		case <-t.C():
		}
		var held bool
		ctx, cancel := context.WithTimeout(context.Background(), 2*every)
		err := conn.QueryRow(ctx, heldQuery, int64(lockClass), int64(lockKey(job))).Scan(&held)
		cancel()
		if err != nil || !held {
			if log != nil {
				log.Warn("the database connection holding a once-only job's lock failed; the job stops here",
					"job", job, "err", cmp.Or(err, errors.New("the lock is no longer held")))
			}
			close(l.lost)
			return
		}
	}
}

// Holder returns the replica whose connection holds job's lock, as its
// application_name names it (cut short if that was too long), or "" when
// no one holds it.
func (p *Postgres) Holder(ctx context.Context, job string) (string, error) {
	conn, err := pgx.Connect(ctx, p.URL)
	if err != nil {
		return "", fmt.Errorf("leader: connect: %w", err)
	}
	defer closeConn(conn)
	var app string
	err = conn.QueryRow(ctx, `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 2`,
		int64(lockClass), int64(lockKey(job))).Scan(&app)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("leader: who holds %s: %w", job, err)
	}
	app = strings.TrimPrefix(app, "gatepost-hub ")
	return strings.TrimSuffix(app, " "+job), nil
}
