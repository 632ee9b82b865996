package registry

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
)

// Versions reads the schema version of the register in the SQLite file
// at filePath without making or changing anything (the doctor's check
// before the hub opens it), and the highest version this build knows. A
// file made before the register moved to goose migrations, with its
// tables and no version table, is at version 1: what adopting it records.
// A missing file is an error wrapping fs.ErrNotExist.
func Versions(ctx context.Context, filePath string) (have, known int64, err error) {
	if known, err = knownVersion(); err != nil {
		return 0, 0, err
	}
	if _, err := os.Stat(filePath); err != nil {
		return 0, known, err
	}
	u := url.URL{Path: filePath}
	db, err := sql.Open("sqlite", "file:"+u.EscapedPath()+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		return 0, known, fmt.Errorf("open %s: %w", filePath, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if have, err = version(ctx, db, sqliteEngine); err != nil || have > 0 {
		return have, known, err
	}
	if old, err := hasTable(ctx, db, sqliteEngine, "kiosks"); err != nil || !old {
		return 0, known, err
	}
	return 1, known, nil
}

// knownVersion is the number of the last migration this build carries,
// from its file name (NNNNN_name.sql), as goose numbers it.
func knownVersion() (int64, error) {
	names, err := fs.Glob(migrations, "migrations/"+sqliteEngine.name+"/*.sql")
	if err != nil || len(names) == 0 {
		return 0, fmt.Errorf("the registry's migrations are missing from this build: %v", err)
	}
	var known int64
	for _, n := range names {
		num, _, _ := strings.Cut(path.Base(n), "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("migration %s: %w", n, err)
		}
		known = max(known, v)
	}
	return known, nil
}
