// Package storeversiontest is the upgrade tests' kit: the flag that
// makes a fixture (a store written by this build, kept in testdata as
// "what an older release wrote"), copying a fixture to a test's folder,
// pushing a copy's schema version past what the build knows, and
// comparing what the new code reads with what the old code read.
//
// Only tests import storeversiontest (the stores' upgrade tests: the
// journal's, hub.db's, console.db's, passes.db's); it imports nothing of
// ours and reaches SQLite through database/sql.
package storeversiontest

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// MakeFixture is the flag that lets a package's TestMakeUpgradeFixture
// write its fixture, e.g.
//
//	go test ./hub/records -run TestMakeUpgradeFixture -args -make-fixture
//
// Without it the test skips: a normal run never rewrites what an older
// release wrote.
var MakeFixture = flag.Bool("make-fixture", false, "write this package's upgrade fixture into testdata (never overwrites one)")

// Fixture returns the path of the fixture named name (e.g. "hub-v7.db")
// in the package's testdata folder. When making fixtures it fails if the
// file exists already: a fixture stands for one release and is never
// rewritten; a new schema version gets a file of its own.
func Fixture(tb testing.TB, name string) string {
	tb.Helper()
	if !*MakeFixture {
		tb.Skip("makes testdata/" + name + " only with -args -make-fixture")
	}
	path := filepath.Join("testdata", name)
	if _, err := os.Stat(path); err == nil {
		tb.Fatalf("%s exists: fixtures are never rewritten (delete it by hand only if it was never committed)", path)
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		tb.Fatal(err)
	}
	return path
}

// Copy copies the committed fixture testdata/name into a new temporary
// folder as file and returns the copy's path.
func Copy(tb testing.TB, name, file string) string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	path := filepath.Join(tb.TempDir(), file)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// Version reads the schema version (PRAGMA user_version) of the SQLite
// file at path.
func Version(tb testing.TB, path string) int {
	tb.Helper()
	db := open(tb, path)
	defer db.Close()
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		tb.Fatalf("read user_version of %s: %v", path, err)
	}
	return v
}

// Exec runs statements on the SQLite file at path: what a newer build
// might have changed besides the version (a table dropped, say), which
// a refused open must not undo.
func Exec(tb testing.TB, path, statements string) {
	tb.Helper()
	db := open(tb, path)
	defer db.Close()
	if _, err := db.Exec(statements); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
}

// SetVersion sets the schema version of the SQLite file at path, as a
// newer gatepost would have, and leaves the file checkpointed (its write
// ahead log folded in and removed), so that the whole file is one set of
// bytes to compare.
func SetVersion(tb testing.TB, path string, v int) {
	tb.Helper()
	db := open(tb, path)
	defer db.Close()
	if _, err := db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, v)); err != nil {
		tb.Fatalf("set user_version of %s: %v", path, err)
	}
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		tb.Fatalf("checkpoint %s: %v", path, err)
	}
}

func open(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		tb.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

// Snapshot returns the contents of every file in dir by name: what a
// refused open must leave as it was.
func Snapshot(tb testing.TB, dir string) map[string][]byte {
	tb.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// Unchanged fails unless dir holds exactly the files of before, byte for
// byte; SQLite's own -wal and -shm files, empty, may come and go.
func Unchanged(tb testing.TB, dir string, before map[string][]byte) {
	tb.Helper()
	after := Snapshot(tb, dir)
	for name, b := range after {
		old, was := before[name]
		switch {
		case !was && sideFile(name, b):
		case !was:
			tb.Errorf("a refused open made %s", name)
		case !bytes.Equal(old, b):
			tb.Errorf("a refused open changed %s (%d bytes before, %d after)", name, len(old), len(b))
		}
	}
	for name := range before {
		if _, ok := after[name]; !ok {
			tb.Errorf("a refused open removed %s", name)
		}
	}
}

// sideFile reports whether a file SQLite made beside a database holds
// nothing of it: an empty write-ahead log, or the shared-memory index.
func sideFile(name string, b []byte) bool {
	switch filepath.Ext(name) {
	case ".db-wal":
		return len(b) == 0
	case ".db-shm":
		return true
	}
	return false
}

// WriteView writes v, what this build reads back from a fixture it made,
// as indented JSON beside the fixture (testdata/name).
func WriteView(tb testing.TB, name string, v any) {
	tb.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", name), append(b, '\n'), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// SameView fails unless what the current code reads back (got) holds
// everything the fixture's build read back (testdata/name): every field
// it had, with the same value, and every list the same length. Fields a
// later build added are allowed.
func SameView(tb testing.TB, name string, got any) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatalf("read the fixture's view: %v", err)
	}
	var want any
	if err := json.Unmarshal(b, &want); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	gb, err := json.Marshal(got)
	if err != nil {
		tb.Fatal(err)
	}
	var have any
	if err := json.Unmarshal(gb, &have); err != nil {
		tb.Fatal(err)
	}
	for _, d := range Diff("", want, have) {
		tb.Errorf("%s: %s", name, d)
	}
}

// Diff lists where have lacks or differs from what want holds, by JSON
// path; it is SameView's comparison of decoded JSON values.
func Diff(path string, want, have any) []string {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: read %v, want an object", orRoot(path), have)}
		}
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []string
		for _, k := range keys {
			hv, ok := h[k]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s: missing, want %v", path, k, w[k]))
				continue
			}
			out = append(out, Diff(path+"."+k, w[k], hv)...)
		}
		return out
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return []string{fmt.Sprintf("%s: read %d items (%v), want %d", orRoot(path), lenOf(have), short(have), len(w))}
		}
		var out []string
		for i := range w {
			out = append(out, Diff(fmt.Sprintf("%s[%d]", path, i), w[i], h[i])...)
		}
		return out
	default:
		if !reflect.DeepEqual(want, have) {
			return []string{fmt.Sprintf("%s: read %v, want %v", orRoot(path), have, want)}
		}
		return nil
	}
}

func orRoot(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}

func lenOf(v any) int {
	if l, ok := v.([]any); ok {
		return len(l)
	}
	return -1
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 120 {
		b = append(b[:120], "..."...)
	}
	return string(b)
}

// Fixtures lists the committed fixtures in the package's testdata whose
// names match pattern (e.g. "hub-v*.db"), without the extension, oldest
// first: by the version number after "-v", so that v10 follows v9.
func Fixtures(tb testing.TB, pattern string) []string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no fixtures matching testdata/%s (%v)", pattern, err)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
	}
	version := func(name string) int { // "journal-v0-rebased" is 0
		_, after, _ := strings.Cut(name, "-v")
		end := strings.IndexFunc(after, func(r rune) bool { return r < '0' || r > '9' })
		if end < 0 {
			end = len(after)
		}
		n, _ := strconv.Atoi(after[:end])
		return n
	}
	slices.SortStableFunc(names, func(a, b string) int { return version(a) - version(b) })
	return names
}
