package records

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReopenKeepsEverything(t *testing.T) {
	t.Parallel()
	// Awkward characters in the directory must not leak into the DSN.
	path := filepath.Join(t.TempDir(), "a dir?x=1#frag%20", "hub.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	mustSave(t, s, batch("gate-1", 1, 2, 4), t0)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the path given: %v", err)
	}
	before, err := s.Entries(t.Context(), Query{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	after, err := s.Entries(t.Context(), Query{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(after, before) {
		t.Errorf("after reopen Entries =\n%+v\nwant\n%+v", after, before)
	}
	if c, err := s.Contiguous(t.Context(), "gate-1"); err != nil || c != 2 {
		t.Errorf("after reopen Contiguous = %d, %v, want 2", c, err)
	}
	if gaps, err := s.Gaps(t.Context(), "gate-1"); err != nil || !reflect.DeepEqual(gaps, []Range{{3, 3}}) {
		t.Errorf("after reopen Gaps = %v, %v, want [{3 3}]", gaps, err)
	}
	if got := mustSave(t, s, batch("gate-1", 3), t0); got.Contiguous != 4 {
		t.Errorf("after reopen SaveBatch(3) contiguous = %d, want 4", got.Contiguous)
	}
}

func TestOpenSetsPragmasAndSchemaVersion(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t)
	var mode string
	var version, sync, fk int
	if err := s.write.DB.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v, want wal", mode, err)
	}
	if err := s.write.DB.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous = %d, %v, want 2 (FULL)", sync, err)
	}
	if err := s.write.DB.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v, want 1", fk, err)
	}
	if err := s.read.DB.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != SchemaVersion() {
		t.Errorf("user_version = %d, %v, want %d", version, err, SchemaVersion())
	}
	if _, err := s.read.DB.Exec(`DELETE FROM entries`); err == nil {
		t.Errorf("write through the read handle succeeded, want query_only to refuse it")
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	s, path := openStore(t)
	if _, err := s.write.DB.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path)
	if err == nil {
		s2.Close()
		t.Fatal("Open(schema version 99) succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open(schema version 99) = %v, want it to say the schema is newer", err)
	}
}

// Readers run while one writer saves batches, on both engines: no reader
// fails (on SQLite, sees SQLITE_BUSY), and the contiguous sequence a
// reader sees never goes back.
func TestConcurrentReadsDuringWrites(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		const batches, size = 40, 25
		done := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for range 4 {
			wg.Go(func() {
				var last uint64
				for {
					select {
					case <-done:
						return
					default:
					}
					c, err := s.Contiguous(t.Context(), "gate-1")
					if err != nil {
						errs <- err
						return
					}
					if c < last {
						errs <- fmt.Errorf("contiguous went back from %d to %d", last, c)
						return
					}
					last = c
					if _, err := s.Latest(t.Context(), 50); err != nil {
						errs <- err
						return
					}
					if _, err := s.Gaps(t.Context(), "gate-1"); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		for i := range batches {
			// Odd batches first, so gaps open and close while readers look.
			n := uint64(i/2 + (i%2)*(batches/2))
			mustSave(t, s, batch("gate-1", span(n*size+1, n*size+size)...), t0.Add(time.Duration(i)*time.Second))
		}
		close(done)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if c, err := s.Contiguous(t.Context(), "gate-1"); err != nil || c != batches*size {
			t.Errorf("Contiguous = %d, %v, want %d", c, err, batches*size)
		}
	})
}

// The write connection keeps SQLite's temporary files, the savepoints'
// sub-journal among them, in memory (temp_store 2): a group commit's
// savepoint per batch wrote each changed page to a temporary file first;
// and it checkpoints the WAL after 10,000 pages, not every commit.
func TestWriteConnectionSettings(t *testing.T) {
	t.Parallel()
	s, _ := openStore(t)
	for _, p := range []struct {
		name string
		want int
	}{{"temp_store", 2}, {"wal_autocheckpoint", 10000}} {
		var got int
		if err := s.write.QueryRow(t.Context(), `PRAGMA `+p.name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != p.want {
			t.Errorf("%s = %d on the write connection, want %d", p.name, got, p.want)
		}
	}
}
