package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	_ "modernc.org/sqlite" // the SQLite driver
)

// SQLiteURL is the driver's name for the SQLite file at path with the
// hub's settings: WAL, synchronous=FULL (a commit is on disk before it is
// acked), foreign keys, a five-second wait for the write lock, and
// transactions that take the write lock as they begin, so that no two
// changes read what the other is changing. extra pragmas follow, as
// "name(value)".
func SQLiteURL(path string, extra ...string) string {
	u := url.URL{Path: path}
	s := "file:" + u.EscapedPath() +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate"
	for _, p := range extra {
		s += "&_pragma=" + p
	}
	return s
}

// ReadOnlyURL is the driver's name for reading the SQLite file at path
// without changing it: none of SQLiteURL's settings (WAL, which could
// change the file), queries only.
func ReadOnlyURL(path string) string {
	u := url.URL{Path: path}
	return "file:" + u.EscapedPath() + "?_pragma=busy_timeout(5000)&_pragma=query_only(1)"
}

// OpenSQLite opens (creating if needed) the store's SQLite file at path
// and brings its tables to this build's version (Migrate): a file made
// before the store used goose is adopted, and one from a newer hub is
// refused, unchanged.
func OpenSQLite(ctx context.Context, path string, spec Spec) (*DB, error) {
	db, err := sql.Open("sqlite", SQLiteURL(path))
	if err != nil {
		return nil, fmt.Errorf("open %s %s: %w", spec.Name, path, err)
	}
	d := &DB{DB: db, Engine: SQLite, Where: path}
	if err := migrateFile(ctx, d, spec); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s %s: %w", spec.Name, path, err)
	}
	if len(spec.Pragmas) > 0 {
		if err := db.Close(); err != nil {
			return nil, fmt.Errorf("open %s %s: %w", spec.Name, path, err)
		}
		if d.DB, err = sql.Open("sqlite", SQLiteURL(path, spec.Pragmas...)); err != nil {
			return nil, fmt.Errorf("open %s %s: %w", spec.Name, path, err)
		}
	}
	return d, nil
}

// OpenPostgres opens the store in the PostgreSQL database at pgURL, its
// tables in spec.Schema (made if missing, and the connections'
// search_path), and brings them to this build's version. Hubs starting
// together migrate once: the first takes the store's advisory lock, the
// others wait for it and find nothing left to do. maxConns bounds the
// store's connections.
func OpenPostgres(ctx context.Context, pgURL string, spec Spec, maxConns int) (*DB, error) {
	cfg, err := pgx.ParseConfig(pgURL)
	if err != nil {
		return nil, fmt.Errorf("open %s: the PostgreSQL URL: %w (want postgres://user:password@host:5432/database)", spec.Name, err)
	}
	cfg.RuntimeParams["search_path"] = spec.Schema
	cfg.OnNotice = CountWarnings
	where := cfg.Database + " at " + cfg.Host + ":" + strconv.Itoa(int(cfg.Port))
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	d := &DB{DB: db, Engine: Postgres, Where: where}
	if err := migratePostgres(ctx, d, spec); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s in PostgreSQL database %s: %w", spec.Name, where, err)
	}
	return d, nil
}
