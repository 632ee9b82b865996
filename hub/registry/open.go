package registry

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/gatepost/gatepost/internal/clock"

	_ "modernc.org/sqlite" // the SQLite driver
)

// FileName is the registry's own database in the hub's data folder.
const FileName = "kiosks.db"

// Schema is the PostgreSQL schema that holds the registry's tables (and
// its migrations' record), so that the hub's other stores can share one
// database without sharing table names.
const Schema = "registry"

// Store is the kiosk registry on SQLite or PostgreSQL: one API, one set of
// statements, two engines.
type Store struct {
	db     *sql.DB
	engine *engine
	clock  clock.Clock
}

// Open opens the registry that dsn names: a postgres:// or postgresql://
// URL (OpenPostgres), or else the path of a SQLite file (OpenFile).
func Open(ctx context.Context, dsn string, c clock.Clock) (*Store, error) {
	if isPostgres(dsn) {
		return OpenPostgres(ctx, dsn, c)
	}
	return OpenFile(ctx, dsn, c)
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// OpenFile opens (creating if needed) the registry in its own SQLite file
// and brings its tables up to this build's version: a file made before
// the registry used goose is adopted (see adopt), and a file from a newer
// build is refused, unchanged.
func OpenFile(ctx context.Context, path string, c clock.Clock) (*Store, error) {
	u := url.URL{Path: path}
	db, err := sql.Open("sqlite", "file:"+u.EscapedPath()+
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open kiosk registry %s: %w", path, err)
	}
	s := &Store{db: db, engine: sqliteEngine, clock: clock.Or(c)}
	if err := migrateFile(ctx, db, path); err != nil {
		db.Close()
		return nil, fmt.Errorf("open kiosk registry %s: %w", path, err)
	}
	return s, nil
}

// OpenPostgres opens the registry in the PostgreSQL database at pgURL (the
// tables in its schema "registry", made if missing) and brings it up to
// this build's version. Hubs starting together migrate once: the first
// takes an advisory lock, the others wait for it and find nothing left
// to do.
func OpenPostgres(ctx context.Context, pgURL string, c clock.Clock) (*Store, error) {
	cfg, err := pgx.ParseConfig(pgURL)
	if err != nil {
		return nil, fmt.Errorf("open kiosk registry: the PostgreSQL URL: %w (want postgres://user:password@host:5432/database)", err)
	}
	cfg.RuntimeParams["search_path"] = Schema
	where := cfg.Database + " at " + cfg.Host + ":" + strconv.Itoa(int(cfg.Port))
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(8)
	s := &Store{db: db, engine: postgresEngine, clock: clock.Or(c)}
	if err := migratePostgres(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open kiosk registry in PostgreSQL database %s: %w", where, err)
	}
	return s, nil
}

// Close closes the store's database.
func (s *Store) Close() error { return s.db.Close() }

// engine is what differs between SQLite and PostgreSQL once a store is
// open: the driver's placeholders, and how a change waits for the one
// before it. The statements are written once, with '?', in SQL both
// engines take.
type engine struct {
	name     string
	numbered bool // placeholders $1, $2, … instead of ?
	// serialize, run first in every change's transaction, makes changes
	// run one at a time. SQLite's transactions take the write lock as
	// they begin (_txlock=immediate); PostgreSQL's lock the generation's
	// row, which every change bumps anyway: no change then reads what
	// another is changing, and no two changes deadlock.
	serialize string
}

var (
	sqliteEngine   = &engine{name: "sqlite"}
	postgresEngine = &engine{name: "postgres", numbered: true,
		serialize: `SELECT n FROM generation WHERE id = 1 FOR UPDATE`}
)

// bind rewrites q's '?' placeholders for the engine. The registry's
// statements hold no '?' in a string literal or identifier.
func (e *engine) bind(q string) string {
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

// The store's reads outside a transaction, with the engine's placeholders.

func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.db.QueryRowContext(ctx, s.engine.bind(q), args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, s.engine.bind(q), args...)
}

// txn is a transaction with the engine's placeholders.
type txn struct {
	tx     *sql.Tx
	engine *engine
}

func (t txn) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, t.engine.bind(q), args...)
}

func (t txn) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, t.engine.bind(q), args...)
}

// tx runs the change f in a transaction, after the changes before it
// (engine.serialize), committed if f returns nil.
func (s *Store) tx(ctx context.Context, f func(txn) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if s.engine.serialize != "" {
		if _, err := tx.ExecContext(ctx, s.engine.serialize); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := f(txn{tx, s.engine}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
