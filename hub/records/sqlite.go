package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"time"

	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/storeversion"
)

// SQLite is hub storage, in one SQLite file or in a PostgreSQL database
// (the name is older than the second engine; see Open). It is safe for
// concurrent use. On SQLite every write goes through a single connection,
// reads through a separate pool of query-only connections, which WAL lets
// run beside the writer; on PostgreSQL one pool serves both.
type SQLite struct {
	write   *sqlstore.DB
	read    *sqlstore.DB
	dialect *dialect
	stmts   *stmtCache // the write path's prepared statements
	// SkewLimit flags kiosks whose clock is further off; 0 means
	// DefaultSkewLimit.
	SkewLimit time.Duration
	// SeqWindow refuses a live batch holding a sequence more than this far
	// beyond the highest the hub holds for its kiosk; 0 means
	// DefaultSeqWindow. Imports (bundles) are not limited.
	SeqWindow uint64
	// Clock gives the received time of imported bundles; nil is the wall
	// clock. Live batches are stamped by ingest with its own clock.
	Clock clock.Clock
}

// readParams open SQLite's read pool. The writer's settings are
// sqlstore.SQLiteURL's (WAL, synchronous=FULL so that every commit
// survives power loss, foreign keys, and _txlock=immediate, which takes
// the write lock at BEGIN so that a transaction never fails half-way when
// it upgrades from reading to writing).
const readParams = "_pragma=busy_timeout(5000)&_pragma=query_only(1)"

// maxReaders bounds the read pool; the console and the API are its users.
const maxReaders = 8

// maxPostgres bounds the connections of a store on PostgreSQL: the
// console's readers and the writers (ingest's group commit, the jobs),
// as many as SQLite's readers. Each replica holds its stores' pools, and
// PostgreSQL allows 100 connections unless told otherwise.
const maxPostgres = maxReaders

// Open opens the records that dsn names, logging nothing: a postgres://
// or postgresql:// URL, or else the path of a SQLite file, made if
// missing. Either is brought up to this build's schema.
func Open(dsn string) (*SQLite, error) {
	return OpenLogged(dsn, slog.New(slog.DiscardHandler))
}

// OpenLogged is Open that logs the slow parts of opening a file an older
// build wrote: each schema migration and each index it creates, with how
// long it took.
func OpenLogged(dsn string, log *slog.Logger) (*SQLite, error) {
	return OpenContext(context.Background(), dsn, log)
}

// OpenContext is OpenLogged that gives up when ctx ends: a PostgreSQL
// server that does not answer, or another hub migrating for long.
func OpenContext(ctx context.Context, dsn string, log *slog.Logger) (*SQLite, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if dsn == "" {
		return nil, errors.New("open records: empty path")
	}
	if sqlstore.IsPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openFile(ctx, dsn, log)
}

// openFile opens the SQLite file at path. A file with a user_version
// above this build's is refused before anything opens it for writing;
// one from before goose is adopted (migrate.go).
func openFile(ctx context.Context, path string, log *slog.Logger) (*SQLite, error) {
	if v, err := storeversion.ReadFile(ctx, path); err == nil {
		if err := storeversion.Check("hub.db", v, SchemaVersion(), "hub"); err != nil {
			return nil, fmt.Errorf("open records %s: %w", path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open records %s: %w", path, err)
	}
	write, err := sqlstore.OpenSQLite(ctx, path, spec(log))
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	if err := ensureSearchIndexes(ctx, write.DB, log); err != nil {
		write.Close()
		return nil, fmt.Errorf("open records %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn(path, readParams))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open records %s: %w", path, err)
	}
	read.SetMaxOpenConns(maxReaders)
	if err := read.Ping(); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("open records %s for reading: %w", path, err)
	}
	return &SQLite{write: write, read: &sqlstore.DB{DB: read, Engine: sqlstore.SQLite, Where: path},
		dialect: sqliteDialect, stmts: newStmtCache(write.DB, sqlstore.SQLite)}, nil
}

// openPostgres opens the records in the PostgreSQL database at pgURL, in
// the schema "records" (made if missing), and brings them up to this
// build's version; hubs starting together migrate once (hub/sqlstore).
func openPostgres(ctx context.Context, pgURL string) (*SQLite, error) {
	db, err := sqlstore.OpenPostgres(ctx, pgURL, spec(nil), maxPostgres)
	if err != nil {
		return nil, err
	}
	return &SQLite{write: db, read: db, dialect: postgresDialect, stmts: newStmtCache(db.DB, sqlstore.Postgres)}, nil
}

// Close closes the store's database.
func (s *SQLite) Close() error {
	s.stmts.close()
	if s.read == s.write {
		return s.write.Close()
	}
	return errors.Join(s.read.Close(), s.write.Close())
}

// dsn builds a SQLite URI. The path is escaped so that '?', '#' or '%' in a
// directory name cannot be read as the start of the parameters.
func dsn(path, params string) string {
	u := url.URL{Path: path}
	return "file:" + u.EscapedPath() + "?" + params
}
