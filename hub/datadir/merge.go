package datadir

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/hub/sqlstore"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/storeversion"
)

// MergedSuffix ends the name an old file keeps once merged into hub.db
// (console.db.merged): never deleted by the hub, it can be removed once
// the hub runs well.
const MergedSuffix = ".merged"

// oldFile is a store's own SQLite file, as hubs before issue 15 kept it
// beside hub.db.
type oldFile struct {
	name string // console.db
	// open brings the file at path to this build's version with the
	// store's own path: a file made before goose adopted, a newer one
	// refused, unchanged.
	open func(ctx context.Context, path string) (io.Closer, error)
	// shared opens the store's tables in the hub.db at path, making them
	// if missing.
	shared func(ctx context.Context, path string) (io.Closer, error)
}

// oldFiles are the files merged into hub.db, in the order they are
// merged.
func (d Dir) oldFiles() []oldFile {
	return []oldFile{
		{operators.FileName,
			func(ctx context.Context, path string) (io.Closer, error) {
				return operators.OpenContext(ctx, path, nil)
			},
			func(ctx context.Context, path string) (io.Closer, error) { return operators.OpenShared(ctx, path, nil) }},
		{passes.DBFile,
			func(ctx context.Context, path string) (io.Closer, error) {
				return passes.OpenDatabase(ctx, path, d.Path, nil)
			},
			func(ctx context.Context, path string) (io.Closer, error) {
				return passes.OpenShared(ctx, path, filepath.Dir(path), nil)
			}},
		{registry.FileName,
			func(ctx context.Context, path string) (io.Closer, error) { return registry.OpenFile(ctx, path, nil) },
			func(ctx context.Context, path string) (io.Closer, error) { return registry.OpenShared(ctx, path, nil) }},
	}
}

// present lists the old files found in the data folder.
func (d Dir) present() ([]oldFile, error) {
	var out []oldFile
	for _, f := range d.oldFiles() {
		_, err := os.Stat(filepath.Join(d.Path, f.name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// Unmerged lists the stores' old files (console.db, passes.db,
// kiosks.db) in the data folder that the next open merges into hub.db:
// none with Database set.
func (d Dir) Unmerged() ([]string, error) {
	if d.Database != "" {
		return nil, nil
	}
	found, err := d.present()
	names := make([]string, len(found))
	for i, f := range found {
		names[i] = f.name
	}
	return names, err
}

// Kept lists the merged files kept in the data folder (console.db.merged
// and the others), which can be removed once the hub runs well.
func (d Dir) Kept() []string {
	var out []string
	for _, f := range d.oldFiles() {
		if _, err := os.Stat(filepath.Join(d.Path, f.name+MergedSuffix)); err == nil {
			out = append(out, f.name+MergedSuffix)
		}
	}
	return out
}

// Merge moves the stores' old files (console.db, passes.db, kiosks.db)
// into hub.db, if any is in the data folder; every open of a store on
// SQLite calls it first, so that no store is used beside an unmerged old
// file. It holds the data folder's flock, so that commands starting
// together merge once. For each file it brings the file to this build's
// version with the store's own path, then, in one transaction on hub.db,
// copies every table's rows, checks the counts and records the merge in
// merged_files; only then renames the file name.merged, never deleting
// it. A file whose merge hub.db records already (a crash between the
// commit and the rename) is renamed, not copied again. A file the store
// refuses (from a newer hub, damaged) stops the merge before hub.db is
// changed, with an error naming it.
func (d Dir) Merge(ctx context.Context) error {
	if d.Database != "" {
		return nil
	}
	if found, err := d.present(); err != nil || len(found) == 0 {
		return err
	}
	unlock, err := sqlstore.LockDir(ctx, d.Path)
	if err != nil {
		return err
	}
	defer unlock()
	ctx = sqlstore.WithDirLocked(ctx, d.Path)
	found, err := d.present() // another process may have merged them meanwhile
	if err != nil || len(found) == 0 {
		return err
	}
	// First every old file to this build's version, so that a refused one
	// stops the merge before hub.db changes.
	var todo []oldFile
	for _, f := range found {
		path := filepath.Join(d.Path, f.name)
		at, err := d.mergedAt(ctx, f.name)
		if err != nil {
			return err
		}
		if !at.IsZero() {
			if err := keep(path); err != nil {
				return err
			}
			d.logger().Info("found "+f.name+" again, merged into hub.db already: the old file is kept as "+f.name+MergedSuffix+", nothing copied",
				"merged_at", at)
			continue
		}
		s, err := f.open(ctx, path)
		if errors.Is(err, sqlstore.ErrNewerSchema) || errors.Is(err, storeversion.ErrNewer) {
			return fmt.Errorf("%s was not merged into hub.db, and neither file was changed: %w", path, err)
		}
		if err != nil {
			return fmt.Errorf("%s was not merged into hub.db, and neither file was changed: %w; "+
				"if it is damaged, put a good copy from a backup in its place, or move it out of %s to start without its data",
				path, err, d.Path)
		}
		if err := s.Close(); err != nil {
			return fmt.Errorf("close %s: %w", path, err)
		}
		todo = append(todo, f)
	}
	if len(todo) == 0 {
		return nil
	}
	// hub.db at the records' version 4, which makes merged_files and which
	// an older hub refuses.
	r, err := records.OpenContext(ctx, d.RecordsPath(), d.Logger)
	if err != nil {
		return err
	}
	if err := r.Close(); err != nil {
		return err
	}
	for _, f := range todo {
		if err := d.mergeFile(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

// logger is d.Logger, or one that discards.
func (d Dir) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}

// mergeFile merges one old file, at this build's version, into hub.db.
func (d Dir) mergeFile(ctx context.Context, f oldFile) error {
	path := filepath.Join(d.Path, f.name)
	s, err := f.shared(ctx, d.RecordsPath())
	if err != nil {
		return fmt.Errorf("merge %s into hub.db: %w", f.name, err)
	}
	if err := s.Close(); err != nil {
		return err
	}
	seeds, err := seeded(ctx, f)
	if err != nil {
		return fmt.Errorf("merge %s into hub.db: %w", f.name, err)
	}
	counts, err := copyRows(ctx, d.RecordsPath(), path, f.name, seeds, clock.Or(d.Clock).Now())
	if err != nil {
		return fmt.Errorf("merge %s into hub.db (both files are as they were): %w", f.name, err)
	}
	if err := keep(path); err != nil {
		return err
	}
	d.logger().Info("merged " + f.name + " into hub.db: " + counts + " rows; the old file is kept as " + f.name + MergedSuffix)
	return nil
}

// mergedAt is when hub.db recorded the merge of the old file name, zero
// for never (or no hub.db yet).
func (d Dir) mergedAt(ctx context.Context, name string) (time.Time, error) {
	if _, err := os.Stat(d.RecordsPath()); errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, nil
	}
	db, err := sql.Open("sqlite", sqlstore.ReadOnlyURL(d.RecordsPath())) // none of SQLiteURL's settings, which could change the file
	if err != nil {
		return time.Time{}, err
	}
	defer db.Close()
	d2 := &sqlstore.DB{DB: db, Engine: sqlstore.SQLite, Where: d.RecordsPath()}
	if ok, err := sqlstore.HasTable(ctx, d2, sqlstore.SQLite, "merged_files"); err != nil || !ok {
		return time.Time{}, err
	}
	var ns int64
	err = db.QueryRowContext(ctx, `SELECT merged_at FROM merged_files WHERE name = ?`, name).Scan(&ns)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read merged_files of hub.db: %w", err)
	}
	return time.Unix(0, ns), nil
}

// seeded is the row count of each of the store's tables just after its
// migrations made them (a few hold a first row, such as the register's
// generation): what hub.db holds of a store that has no data of its own
// there yet. It makes the store in a file of its own in a folder that is
// then removed.
func seeded(ctx context.Context, f oldFile) (map[string]int64, error) {
	dir, err := os.MkdirTemp("", "gatepost-merge-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "hub.db")
	s, err := f.shared(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := s.Close(); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", sqlstore.SQLiteURL(path))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	names, err := tableNames(ctx, db, "main")
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, t := range names {
		if strings.HasPrefix(t, "goose_") {
			continue
		}
		if out[t], err = count(ctx, db, "main", t); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// queryer is a database or a connection.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tableNames lists the tables of the attached database schema, SQLite's
// own left out.
func tableNames(ctx context.Context, q queryer, schema string) ([]string, error) {
	return strings1(ctx, q, `SELECT name FROM `+schema+`.sqlite_master
		WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
}

// columns lists the columns of schema's table.
func columns(ctx context.Context, q queryer, schema, table string) ([]string, error) {
	return strings1(ctx, q, `SELECT name FROM pragma_table_info(?, ?) ORDER BY cid`, table, schema)
}

func strings1(ctx context.Context, q queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func count(ctx context.Context, q queryer, schema, table string) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+schema+`.`+quote(table)).Scan(&n)
	return n, err
}

// quote makes a name an SQL identifier.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// copyRows copies every table of the old file at oldPath (the store's
// tables, seeds) into hub.db at hubPath, in one transaction that also
// records the merge in merged_files, and returns the rows copied per
// table, as a log line reads them ("users 3, sessions 5").
func copyRows(ctx context.Context, hubPath, oldPath, name string, seeds map[string]int64, now time.Time) (string, error) {
	db, err := sql.Open("sqlite", sqlstore.SQLiteURL(hubPath))
	if err != nil {
		return "", err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// ATTACH cannot run inside a transaction: the connection attaches the
	// old file first, then begins (taking hub.db's write lock).
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS old`, oldPath); err != nil {
		return "", fmt.Errorf("attach %s: %w", oldPath, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DETACH DATABASE old`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	tables, err := tableNames(ctx, tx, "old")
	if err != nil {
		return "", fmt.Errorf("read %s: %w", name, err)
	}
	var copied []string
	seen := map[string]bool{}
	// The foreign keys (sessions to users, passes to keys) are checked at
	// the commit, when every table is in.
	if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
		return "", err
	}
	for _, t := range tables {
		if t == sqlstore.VersionTable {
			continue
		}
		seed, ok := seeds[t]
		if !ok {
			return "", fmt.Errorf("%s has a table %s that this build's store does not", name, t)
		}
		seen[t] = true
		have, err := count(ctx, tx, "main", t)
		if err != nil {
			return "", err
		}
		if have != seed {
			return "", fmt.Errorf("hub.db holds data of its own in the table %s (%d rows): "+
				"if that is the data to keep, move %s out of the data folder; if %s's is, restore hub.db from the backup made with it", t, have, name, name)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM main.`+quote(t)); err != nil {
			return "", err
		}
		cols, err := columns(ctx, tx, "old", t)
		if err != nil {
			return "", err
		}
		want, err := columns(ctx, tx, "main", t)
		if err != nil {
			return "", err
		}
		if !sameSet(cols, want) {
			return "", fmt.Errorf("the table %s has columns %s in %s and %s in hub.db", t, strings.Join(cols, ", "), name, strings.Join(want, ", "))
		}
		list := make([]string, len(cols))
		for i, c := range cols {
			list[i] = quote(c)
		}
		l := strings.Join(list, ", ")
		res, err := tx.ExecContext(ctx, `INSERT INTO main.`+quote(t)+` (`+l+`) SELECT `+l+` FROM old.`+quote(t))
		if err != nil {
			return "", fmt.Errorf("copy the table %s: %w", t, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return "", err
		}
		from, err := count(ctx, tx, "old", t)
		if err != nil {
			return "", err
		}
		to, err := count(ctx, tx, "main", t)
		if err != nil {
			return "", err
		}
		if n != from || to != from {
			return "", fmt.Errorf("the table %s: %d rows in %s, %d copied, %d in hub.db", t, from, name, n, to)
		}
		copied = append(copied, fmt.Sprintf("%s %d", t, n))
	}
	for t := range seeds {
		if !seen[t] {
			return "", fmt.Errorf("%s lacks the table %s", name, t)
		}
	}
	rows := strings.Join(copied, ", ")
	if _, err := tx.ExecContext(ctx, `INSERT INTO merged_files (name, merged_at, rows) VALUES (?, ?, ?)`,
		name, now.UnixNano(), rows); err != nil {
		return "", fmt.Errorf("record the merge: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", err
	}
	return rows, nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	in := map[string]bool{}
	for _, s := range a {
		in[s] = true
	}
	for _, s := range b {
		if !in[s] {
			return false
		}
	}
	return true
}

// keep renames the merged file at path to path.merged, its write-ahead
// log and shared-memory files first (SQLite finds them by the database's
// name), so that a crash half-way leaves the database itself to rename.
func keep(path string) error {
	for _, side := range []string{"-wal", "-shm", ""} {
		err := os.Rename(path+side, path+MergedSuffix+side)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("keep the merged file: %w", err)
		}
	}
	return nil
}
