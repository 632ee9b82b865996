package records

import (
	"context"
	"database/sql"
	"strings"
	"sync"

	"github.com/gatepost/gatepost/hub/sqlstore"
)

// querier is what the write path runs its statements with: a cachedTx,
// which binds the statements' '?' for the engine (a bare *sql.Tx would
// not, on PostgreSQL).
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

var _ querier = cachedTx{}

// maxStmts bounds the cache: the write path has a few dozen statements.
const maxStmts = 64

// stmtCache keeps the write path's statements prepared on the writer
// connection. modernc's driver parses a statement's SQL again on every
// Exec and Query, which cost about 40% of storing a one-entry batch.
// A statement can be prepared only while the writer's one connection is
// free, so a statement first seen inside a transaction runs unprepared
// and is prepared after the commit (want, then prepare).
type stmtCache struct {
	db     *sql.DB
	engine *sqlstore.Engine // binds the statements' '?' for the engine
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	wanted map[string]bool
}

func newStmtCache(db *sql.DB, e *sqlstore.Engine) *stmtCache {
	return &stmtCache{db: db, engine: e, stmts: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

// get is the prepared statement for query, or nil (and query noted as
// wanted).
func (c *stmtCache) get(query string) *sql.Stmt {
	if c == nil || strings.HasPrefix(query, "SAVEPOINT") || strings.HasPrefix(query, "ROLLBACK") || strings.HasPrefix(query, "RELEASE") {
		return nil // savepoints run as they are
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st
	}
	if len(c.stmts)+len(c.wanted) < maxStmts {
		c.wanted[query] = true
	}
	return nil
}

// prepare prepares the statements wanted; call it outside any
// transaction on the writer. A statement that fails to prepare is
// forgotten (it keeps running unprepared).
func (c *stmtCache) prepare(ctx context.Context) {
	c.mu.Lock()
	var queries []string
	for q := range c.wanted {
		queries = append(queries, q)
	}
	clear(c.wanted)
	c.mu.Unlock()
	for _, q := range queries {
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, ok := c.stmts[q]; ok {
			st.Close()
		} else {
			c.stmts[q] = st
		}
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	clear(c.stmts)
}

// cachedTx runs a transaction's statements through the cache, bound for
// the cache's engine (the cache's statements are held bound).
type cachedTx struct {
	tx *sql.Tx
	c  *stmtCache
}

func (t cachedTx) bind(query string) string { return t.c.engine.Bind(query) }

func (t cachedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query = t.bind(query)
	if st := t.c.get(query); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t cachedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = t.bind(query)
	if st := t.c.get(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t cachedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	query = t.bind(query)
	if st := t.c.get(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

func (t cachedTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	query = t.bind(query)
	if st := t.c.get(query); st != nil {
		return t.tx.StmtContext(ctx, st), nil
	}
	return t.tx.PrepareContext(ctx, query)
}
