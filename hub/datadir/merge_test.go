package datadir

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/passes"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/internal/storeversion/storeversiontest"
	"github.com/gatepost/gatepost/protocol"
)

// oldFixture is an old file of a store, as an older hub wrote it:
// another package's upgrade fixture.
type oldFixture struct{ name, src string }

// fixtures are the stores' committed fixtures (storeversiontest), the
// files of hubs before issue 15: each one's oldest and newest.
func fixtures(t *testing.T) [][]oldFixture {
	t.Helper()
	var sets [][]oldFixture
	glob := func(pattern string) []string {
		m, err := filepath.Glob(pattern)
		if err != nil || len(m) == 0 {
			t.Fatalf("no fixtures %s (%v)", pattern, err)
		}
		slices.Sort(m)
		return m
	}
	console := glob("../operators/testdata/console-v*.db")
	pass := glob("../passes/testdata/passes-v*.db")
	kiosks := glob("../registry/testdata/kiosks-v*.db")
	for i := range max(len(console), len(pass), len(kiosks)) {
		pick := func(m []string) string { return m[min(i, len(m)-1)] }
		sets = append(sets, []oldFixture{
			{operators.FileName, pick(console)}, {passes.DBFile, pick(pass)}, {registry.FileName, pick(kiosks)}})
	}
	return sets
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// dump is every row of every table of the SQLite file at path whose
// names are in tables (all but SQLite's and goose's when nil), each row
// as its columns by name, sorted: contents to compare, whatever the
// columns' order.
func dump(t *testing.T, path string, tables []string) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if tables == nil {
		if tables, err = tableNames(t.Context(), db, "main"); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string][]string{}
	for _, table := range tables {
		if strings.HasPrefix(table, "goose_") {
			continue
		}
		rows, err := db.Query(`SELECT * FROM ` + quote(table))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		cols, all := scanAll(t, rows)
		list := []string{}
		for _, vals := range all {
			fields := make([]string, len(cols))
			for i, c := range cols {
				fields[i] = fmt.Sprintf("%s=%v", c, vals[i])
			}
			sort.Strings(fields)
			list = append(list, strings.Join(fields, " "))
		}
		sort.Strings(list)
		out[table] = list
	}
	return out
}

// reference opens the old file with its store's own path in a folder of
// its own, as the merge does before it copies, and dumps its tables:
// what hub.db must hold after the merge.
func reference(t *testing.T, d Dir, f oldFixture) map[string][]string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, f.name)
	copyFile(t, f.src, path)
	for _, o := range (Dir{Path: dir}).oldFiles() {
		if o.name == f.name {
			s, err := o.open(t.Context(), path)
			if err != nil {
				t.Fatalf("open %s (%s) alone: %v", f.name, f.src, err)
			}
			s.Close()
		}
	}
	m := dump(t, path, nil)
	delete(m, "goose_db_version")
	return m
}

func tablesOf(m map[string][]string) []string {
	var out []string
	for t := range m {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// TestMergeFixtures merges the old files of older hubs (the stores'
// upgrade fixtures) into hub.db, beside an older hub.db (the records'
// fixture) or none, and finds every row of every table in hub.db, each
// old file kept as name.merged and the merge logged.
func TestMergeFixtures(t *testing.T) {
	for i, set := range fixtures(t) {
		for _, withHub := range []bool{false, true} {
			t.Run(fmt.Sprintf("set%d/hubdb=%v", i, withHub), func(t *testing.T) {
				var logs bytes.Buffer
				d := Dir{Path: t.TempDir(), Logger: slog.New(slog.NewTextHandler(&logs, nil))}
				if withHub {
					copyFile(t, "../records/testdata/hub-v7.db", d.RecordsPath())
				}
				want := map[string]map[string][]string{}
				for _, f := range set {
					copyFile(t, f.src, filepath.Join(d.Path, f.name))
					want[f.name] = reference(t, d, f)
				}
				o, err := d.OpenOperators()
				if err != nil {
					t.Fatalf("OpenOperators: %v", err)
				}
				o.Close()
				for _, f := range set {
					got := dump(t, d.RecordsPath(), tablesOf(want[f.name]))
					for table, rows := range want[f.name] {
						if !slices.Equal(got[table], rows) {
							t.Errorf("%s (%s): hub.db's %s holds %d rows %q, want %d %q", f.name, f.src, table, len(got[table]), got[table], len(rows), rows)
						}
					}
					if _, err := os.Stat(filepath.Join(d.Path, f.name)); !os.IsNotExist(err) {
						t.Errorf("%s is still there after the merge (%v)", f.name, err)
					}
					if _, err := os.Stat(filepath.Join(d.Path, f.name+MergedSuffix)); err != nil {
						t.Errorf("%s not kept: %v", f.name+MergedSuffix, err)
					}
					if !strings.Contains(logs.String(), "merged "+f.name+" into hub.db: ") ||
						!strings.Contains(logs.String(), "the old file is kept as "+f.name+MergedSuffix) {
						t.Errorf("no log line of the merge of %s in:\n%s", f.name, logs.String())
					}
				}
				t.Log(logs.String())
				// The stores read their data from hub.db.
				ops, err := d.OpenOperators()
				if err != nil {
					t.Fatal(err)
				}
				defer ops.Close()
				users, err := ops.Users(t.Context())
				if err != nil || len(users) != len(want[operators.FileName]["users"]) {
					t.Errorf("Users() = %d users, %v; want %d", len(users), err, len(want[operators.FileName]["users"]))
				}
				reg, err := d.OpenRegistry()
				if err != nil {
					t.Fatal(err)
				}
				defer reg.Close()
				ks, err := reg.List(t.Context())
				if err != nil || len(ks) != len(want[registry.FileName]["enrolled_kiosks"]) {
					t.Errorf("List() = %d kiosks, %v; want %d", len(ks), err, len(want[registry.FileName]["enrolled_kiosks"]))
				}
				if withHub {
					r, err := d.OpenExistingRecords()
					if err != nil {
						t.Fatalf("the records' hub.db after the merge: %v", err)
					}
					r.Close()
				}
			})
		}
	}
}

// currentFiles writes console.db, passes.db and kiosks.db as the build
// before issue 15 did (each store's own file, at this build's version),
// with known rows.
func currentFiles(t *testing.T, dir string) {
	t.Helper()
	ctx := t.Context()
	o, err := operators.Open(filepath.Join(dir, operators.FileName), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"admin", "guard-1", "guard-2"} {
		if err := o.AddUser(ctx, u, "a long enough password 1", u == "admin"); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.SetSetting(ctx, "site-name", "华木"); err != nil {
		t.Fatal(err)
	}
	o.Close()
	p, err := passes.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.InitKey(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, unit := range []string{"3-502", "3-503"} {
		if _, err := p.Issue(ctx, passes.Request{Kind: protocol.PassResident, Site: "huamu-1", Unit: unit, Name: "王小明",
			ValidFrom: now, ValidUntil: now.AddDate(0, 6, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	g, err := registry.OpenFile(ctx, filepath.Join(dir, registry.FileName), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := g.NewCode(ctx, "huamu-1", "gate-1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, _, err := g.NewCode(ctx, "huamu-1", "gate-2", time.Hour); err != nil {
		t.Fatal(err)
	}
	g.Close()
}

// merged is what hub.db's merged_files holds: name and rows, by name.
func merged(t *testing.T, d Dir) map[string]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+d.RecordsPath()+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name, rows FROM merged_files`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, r string
		if err := rows.Scan(&n, &r); err != nil {
			t.Fatal(err)
		}
		out[n] = r
	}
	return out
}

// TestMergeCurrentFiles merges files the previous build wrote, with
// known rows, into a hub.db that holds records, then finds a merged file
// put back (a crash between the commit and the rename) and renames it
// without copying anything twice.
func TestMergeCurrentFiles(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	r, err := d.OpenRecords() // a hub.db of this build, no old file yet
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	currentFiles(t, d.Path)
	want := map[string]map[string][]string{}
	for _, f := range []string{operators.FileName, passes.DBFile, registry.FileName} {
		want[f] = dump(t, filepath.Join(d.Path, f), nil)
		delete(want[f], "goose_db_version")
	}
	if n := len(want[operators.FileName]["users"]); n != 3 {
		t.Fatalf("console.db holds %d users, want 3", n)
	}
	p, err := d.OpenPasses()
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	check := func(when string) {
		t.Helper()
		for f, tables := range want {
			got := dump(t, d.RecordsPath(), tablesOf(tables))
			for table, rows := range tables {
				if !slices.Equal(got[table], rows) {
					t.Errorf("%s: %s's table %s in hub.db holds %q, want %q", when, f, table, got[table], rows)
				}
			}
		}
	}
	check("after the merge")
	first := merged(t, d)
	if len(first) != 3 || !strings.Contains(first[operators.FileName], "users 3") {
		t.Errorf("merged_files = %v, want the three files, console.db with users 3", first)
	}

	// The crash: hub.db committed the merge, the files were not renamed.
	for _, f := range []string{operators.FileName, registry.FileName} {
		if err := os.Rename(filepath.Join(d.Path, f+MergedSuffix), filepath.Join(d.Path, f)); err != nil {
			t.Fatal(err)
		}
	}
	g, err := d.OpenRegistry()
	if err != nil {
		t.Fatalf("open after the crash: %v", err)
	}
	g.Close()
	check("after the crash")
	if again := merged(t, d); len(again) != 3 || again[operators.FileName] != first[operators.FileName] {
		t.Errorf("merged_files after the crash = %v, want %v", again, first)
	}
	for _, f := range []string{operators.FileName, registry.FileName} {
		if _, err := os.Stat(filepath.Join(d.Path, f)); !os.IsNotExist(err) {
			t.Errorf("%s not renamed after the crash (%v)", f, err)
		}
	}
}

// TestMergeRefusesNewer leaves hub.db and a console.db from a newer hub
// as they are, byte for byte, and says which file and what to do.
func TestMergeRefusesNewer(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	r, err := d.OpenRecords()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	currentFiles(t, d.Path)
	console := filepath.Join(d.Path, operators.FileName)
	storeversiontest.SetVersion(t, console, 99)
	before := storeversiontest.Snapshot(t, d.Path)
	for name, open := range map[string]func() error{
		"OpenOperators": func() error { s, err := d.OpenOperators(); closeIf(s, err); return err },
		"OpenRecords":   func() error { s, err := d.OpenRecords(); closeIf(s, err); return err },
	} {
		err := open()
		t.Logf("%s: %v", name, err)
		if err == nil || !strings.Contains(err.Error(), console) || !strings.Contains(err.Error(), "neither file was changed") ||
			!strings.Contains(err.Error(), "newer") {
			t.Errorf("%s with a newer console.db = %v, want an error naming %s, newer, neither file changed", name, err, console)
		}
	}
	storeversiontest.Unchanged(t, d.Path, before)
}

// TestMergeRefusesDamaged leaves hub.db and a damaged passes.db as they
// are and names the file.
func TestMergeRefusesDamaged(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	r, err := d.OpenRecords()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	path := filepath.Join(d.Path, passes.DBFile)
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a database "), 500), 0o600); err != nil {
		t.Fatal(err)
	}
	before := storeversiontest.Snapshot(t, d.Path)
	s, err := d.OpenPasses()
	closeIf(s, err)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "from a backup") {
		t.Errorf("OpenPasses with a damaged passes.db = %v, want an error naming %s and what to do", err, path)
	}
	storeversiontest.Unchanged(t, d.Path, before)
}

func closeIf(c interface{ Close() error }, err error) {
	if err == nil {
		c.Close()
	}
}

// TestMergeOnce opens the data folder from two places at once: the old
// files are merged once.
func TestMergeOnce(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	currentFiles(t, d.Path)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			var s interface{ Close() error }
			var err error
			switch i % 2 {
			case 0:
				s, err = Dir{Path: d.Path}.OpenOperators()
			case 1:
				s, err = Dir{Path: d.Path}.OpenRegistry()
			}
			closeIf(s, err)
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
		}
	}
	if m := merged(t, d); len(m) != 3 || !strings.Contains(m[operators.FileName], "users 3") {
		t.Errorf("merged_files = %v, want the three files once, console.db with users 3", m)
	}
	o, err := d.OpenOperators()
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if u, err := o.Users(context.Background()); err != nil || len(u) != 3 {
		t.Errorf("Users() = %d, %v; want 3", len(u), err)
	}
}
