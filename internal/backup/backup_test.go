package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	u := url.URL{Path: path}
	db, err := sql.Open("sqlite", "file:"+u.EscapedPath()+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// A backup taken while a writer goes on is one consistent snapshot: the
// restored database holds rows 1..k with nothing missing or torn, k at
// least what was committed before the backup began; the secret files
// come back with their modes.
func TestBackupWhileWritingRestoresAConsistentSnapshot(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, filepath.Join(dir, "hub.db"))
	if _, err := db.Exec(`CREATE TABLE entries (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "tls"), 0o750)
	os.WriteFile(filepath.Join(dir, "downlink.key"), []byte("secret\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "tls", "ca.crt"), []byte("cert\n"), 0o644)

	var committed atomic.Int64
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		for seq := int64(1); ctx.Err() == nil; seq++ {
			tx, err := db.Begin()
			if err != nil {
				t.Error(err)
				return
			}
			// Two rows per transaction: a torn copy would show an odd count.
			tx.Exec(`INSERT INTO entries VALUES (?, ?)`, 2*seq-1, strings.Repeat("x", 200))
			tx.Exec(`INSERT INTO entries VALUES (?, ?)`, 2*seq, strings.Repeat("y", 200))
			if err := tx.Commit(); err != nil {
				t.Error(err)
				return
			}
			committed.Store(2 * seq)
		}
	})
	for committed.Load() < 500 { // the writer is well under way
		time.Sleep(time.Millisecond) // polling: the writer's progress is what we wait for
	}
	before := committed.Load()
	out := filepath.Join(t.TempDir(), "hub.backup")
	sum, err := Write(t.Context(), dir, out, time.Now())
	stop()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(sum.Databases, ",") != "hub.db" || strings.Join(sum.Files, ",") != "downlink.key,tls/ca.crt" {
		t.Fatalf("backed up %+v", sum)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("the backup is %v, want 0600: it holds the keys", fi.Mode().Perm())
	}

	to := filepath.Join(t.TempDir(), "restored")
	if _, err := Restore(t.Context(), out, to); err != nil {
		t.Fatal(err)
	}
	rdb := openDB(t, filepath.Join(to, "hub.db"))
	var n, max int64
	if err := rdb.QueryRow(`SELECT count(*), coalesce(max(seq), 0) FROM entries`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != max || n%2 != 0 || n < before {
		t.Fatalf("restored %d rows up to %d; want 1..k whole, k even and at least %d", n, max, before)
	}
	if fi, err := os.Stat(filepath.Join(to, "downlink.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("restored key: %v, %v", fi, err)
	}
	if b, _ := os.ReadFile(filepath.Join(to, "tls", "ca.crt")); string(b) != "cert\n" {
		t.Fatalf("restored certificate %q", b)
	}
	if _, err := Restore(t.Context(), out, to); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("a restore over data = %v, want ErrNotEmpty", err)
	}
}

func TestRestoreRefusesWhatIsNoBackup(t *testing.T) {
	dir := t.TempDir()
	notGzip := filepath.Join(dir, "x")
	os.WriteFile(notGzip, []byte("hello"), 0o600)
	if _, err := Restore(t.Context(), notGzip, filepath.Join(dir, "a")); err == nil || !strings.Contains(err.Error(), "not a gatepost backup") {
		t.Fatalf("Restore(not gzip) = %v", err)
	}
	if _, err := Write(t.Context(), filepath.Join(dir, "missing"), filepath.Join(dir, "b"), time.Now()); err == nil {
		t.Fatal("backed up a folder that does not exist")
	}
}

// A member that would land outside the folder (a crafted file) is refused.
func TestRestoreRefusesPathsOutsideTheFolder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "evil.backup")
	f, _ := os.Create(path)
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	addBytes(tw, Manifest, []byte("x"), time.Now())
	addBytes(tw, "../escaped", []byte("x"), time.Now())
	tw.Close()
	zw.Close()
	f.Close()
	if _, err := Restore(t.Context(), path, filepath.Join(dir, "to")); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("Restore(../escaped) = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "escaped")); err == nil {
		t.Fatal("a member was written outside the folder")
	}
}
