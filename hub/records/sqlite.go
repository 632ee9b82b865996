package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/gatepost/gatepost/internal/clock"
)

// SQLite is hub storage in one SQLite file. It is safe for concurrent use:
// every write goes through a single connection, reads through a separate
// pool of query-only connections, which WAL lets run beside the writer.
type SQLite struct {
	write *sql.DB
	read  *sql.DB
	stmts *stmtCache // the write path's prepared statements
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

// Pragmas go in the DSN, not in db.Exec, so that every pooled connection gets
// them. busy_timeout comes first: switching to WAL can itself return busy.
// synchronous=FULL keeps every commit across power loss, not only a crash.
// _txlock=immediate takes the write lock at BEGIN, so a transaction never
// fails half-way when it upgrades from reading to writing.
const (
	writeParams = "_pragma=busy_timeout(5000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(1)" +
		"&_txlock=immediate"
	readParams = "_pragma=busy_timeout(5000)&_pragma=query_only(1)"
)

// maxReaders bounds the read pool; the console and the API are its users.
const maxReaders = 8

// Open opens the SQLite file at path, creating it if needed, and brings its
// schema up to date, logging nothing.
func Open(path string) (*SQLite, error) {
	return OpenLogged(path, slog.New(slog.DiscardHandler))
}

// OpenLogged is Open that logs the slow parts of opening a file an older
// build wrote: each schema migration and each index it creates, with how
// long it took.
func OpenLogged(path string, log *slog.Logger) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("open records: empty path")
	}
	write, err := sql.Open("sqlite", dsn(path, writeParams))
	if err != nil {
		return nil, fmt.Errorf("open records %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	err = migrate(context.Background(), write, log)
	if err == nil {
		err = ensureSearchIndexes(context.Background(), write, log)
	}
	if err != nil {
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
	return &SQLite{write: write, read: read, stmts: newStmtCache(write)}, nil
}

// Close closes both handles.
func (s *SQLite) Close() error {
	s.stmts.close()
	return errors.Join(s.read.Close(), s.write.Close())
}

// dsn builds a SQLite URI. The path is escaped so that '?', '#' or '%' in a
// directory name cannot be read as the start of the parameters.
func dsn(path, params string) string {
	u := url.URL{Path: path}
	return "file:" + u.EscapedPath() + "?" + params
}
