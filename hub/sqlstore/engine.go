package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// Engine is what differs between SQLite and PostgreSQL once a store is
// open: the driver's placeholders, and the names goose and the catalog
// queries go by. The statements are written once, with '?', in SQL both
// engines take (INSERT … ON CONFLICT … DO NOTHING rather than SQLite's
// INSERT OR IGNORE, times as integer unix nanoseconds).
type Engine struct {
	Name     string // "sqlite" or "postgres": also the migrations' folder
	numbered bool   // placeholders $1, $2, … instead of ?
}

// The two engines.
var (
	SQLite   = &Engine{Name: "sqlite"}
	Postgres = &Engine{Name: "postgres", numbered: true}
)

// IsPostgres reports whether dsn names a PostgreSQL database (a
// postgres:// or postgresql:// URL) rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Bind rewrites q's '?' placeholders for the engine. The stores'
// statements hold no '?' in a string literal or identifier.
func (e *Engine) Bind(q string) string {
	if !e.numbered || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// DB is a store's database with its engine: its reads and changes take
// statements with '?' placeholders.
type DB struct {
	*sql.DB
	Engine *Engine
	// Where names the database in messages: the SQLite file's path, or
	// PostgreSQL's database and host (never its password).
	Where string
	// Serialize, when set, is run first in every transaction of Tx: a
	// statement that makes changes run one at a time (on PostgreSQL,
	// locking a row every change bumps anyway). SQLite's transactions take
	// the write lock as they begin and need none.
	Serialize string
}

// Exec runs a statement outside a transaction. On PostgreSQL, one
// committed with a warning returns an error wrapping ErrUnreplicated.
func (d *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if d.Engine != Postgres {
		return d.ExecContext(ctx, d.Engine.Bind(q), args...)
	}
	conn, err := d.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var res sql.Result
	err = Unwarned(conn, func() error {
		var err error
		res, err = conn.ExecContext(ctx, d.Engine.Bind(q), args...)
		return err
	})
	return res, err
}

// QueryRow runs a query for one row outside a transaction.
func (d *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return d.QueryRowContext(ctx, d.Engine.Bind(q), args...)
}

// Query runs a query outside a transaction.
func (d *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.QueryContext(ctx, d.Engine.Bind(q), args...)
}

// Tx is a transaction with the engine's placeholders.
type Tx struct {
	*sql.Tx
	Engine *Engine
}

// Exec runs a statement in the transaction.
func (t Tx) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.ExecContext(ctx, t.Engine.Bind(q), args...)
}

// QueryRow runs a query for one row in the transaction.
func (t Tx) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.QueryRowContext(ctx, t.Engine.Bind(q), args...)
}

// Query runs a query in the transaction.
func (t Tx) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.QueryContext(ctx, t.Engine.Bind(q), args...)
}

// Tx runs the change f in a transaction, after the changes before it
// (Serialize), committed if f returns nil and rolled back otherwise. On
// PostgreSQL, a commit with a warning returns an error wrapping
// ErrUnreplicated (WriteTx).
func (d *DB) Tx(ctx context.Context, f func(Tx) error) error {
	tx, err := d.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Close()
	if d.Serialize != "" {
		if _, err := tx.ExecContext(ctx, d.Serialize); err != nil {
			return err
		}
	}
	if err := f(Tx{tx.Tx, d.Engine}); err != nil {
		return err
	}
	return tx.Commit()
}

// WriteTx is a transaction that makes changes. On PostgreSQL it runs on
// a connection of its own, so that what the server says while it commits
// can be read (Unwarned).
type WriteTx struct {
	*sql.Tx
	conn *sql.Conn // PostgreSQL only
}

// BeginWrite begins a transaction that makes changes. Close it when done.
func (d *DB) BeginWrite(ctx context.Context) (*WriteTx, error) {
	w := &WriteTx{}
	var err error
	if d.Engine == Postgres {
		if w.conn, err = d.Conn(ctx); err != nil {
			return nil, err
		}
		w.Tx, err = w.conn.BeginTx(ctx, nil)
	} else {
		w.Tx, err = d.BeginTx(ctx, nil)
	}
	if err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// Commit commits; on PostgreSQL a commit with a warning returns an error
// wrapping ErrUnreplicated.
func (w *WriteTx) Commit() error {
	if w.conn == nil {
		return w.Tx.Commit()
	}
	return Unwarned(w.conn, w.Tx.Commit)
}

// Close rolls back what was not committed and gives the connection back.
func (w *WriteTx) Close() {
	if w.Tx != nil {
		w.Rollback()
	}
	if w.conn != nil {
		w.conn.Close()
	}
}
