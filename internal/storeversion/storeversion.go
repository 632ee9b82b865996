// Package storeversion is the schema version check every SQLite store of
// gatepost makes before it changes anything: a file's version lives in
// PRAGMA user_version, and a file written by a newer gatepost (a version
// above what this build knows) is refused, untouched, with a sentence
// naming both versions and what to do. Going back to an older gatepost
// means restoring the backup made before the upgrade.
//
// The stores import it (kiosk/journal, hub/records, hub/operators,
// hub/passes), and the doctors, to report a file's version without
// opening it for writing. It imports nothing of ours.
package storeversion

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNewer means a store was written by a newer gatepost than this one:
// its schema version is above the highest this build knows.
var ErrNewer = errors.New("store written by a newer gatepost")

// NewerError is the refusal of a store whose schema version this build
// does not know. errors.Is(err, ErrNewer) holds for it.
type NewerError struct {
	File    string // the store's file name: hub.db, journal.db, ...
	Have    int    // the file's schema version
	Known   int    // the highest this build knows
	Program string // "hub" or "kiosk"
}

func (e *NewerError) Error() string {
	return fmt.Sprintf("%s is at schema version %d but this %s knows versions up to %d: "+
		"it was written by a newer gatepost; install that version again (or restore a backup made by this one)",
		e.File, e.Have, e.Program, e.Known)
}

// Is makes errors.Is(err, ErrNewer) true.
func (e *NewerError) Is(target error) bool { return target == ErrNewer }

// Querier is what Read reads through: a *sql.DB, *sql.Conn or *sql.Tx.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Read returns the schema version (PRAGMA user_version) q's file is at.
func Read(ctx context.Context, q Querier) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// Check refuses a file at version have when this build knows versions
// up to known, with a *NewerError; an older or current file passes.
func Check(file string, have, known int, program string) error {
	if have > known {
		return &NewerError{File: file, Have: have, Known: known, Program: program}
	}
	return nil
}

// CheckDB reads q's version and checks it: the first thing a store does
// with its file, before any statement that could write to it.
func CheckDB(ctx context.Context, q Querier, file string, known int, program string) (int, error) {
	have, err := Read(ctx, q)
	if err != nil {
		return 0, err
	}
	return have, Check(file, have, known, program)
}

// ReadFile returns the schema version of the SQLite file at path without
// changing it: it sets no pragma that writes (journal mode), creates
// nothing when the file is missing (os.ErrNotExist), and only reads, so a
// running program's writes are undisturbed. It is for reports (doctor).
func ReadFile(ctx context.Context, path string) (int, error) {
	if _, err := os.Stat(path); err != nil {
		return 0, err
	}
	u := url.URL{Path: path}
	db, err := sql.Open("sqlite", "file:"+u.EscapedPath()+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	v, err := Read(ctx, db)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}
