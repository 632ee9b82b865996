// Package backup makes an online, consistent copy of a data folder (the
// hub's or a kiosk's) into one file, and restores it. Every SQLite
// database is copied with VACUUM INTO, which reads one snapshot while the
// program that owns it goes on writing (ingest, the journal); every other
// file (keys, the enrollment, certificates) is copied as it is. The file
// is a gzipped tar, 0600: it holds the folder's secrets.
//
// The hub's and the kiosk's commands (`hub backup`, `hub restore`, `kiosk
// backup`, `kiosk restore`) import backup; it imports nothing of ours.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Manifest is the first member of every backup: what it holds and when.
const Manifest = "GATEPOST-BACKUP"

// maxMember bounds one member on restore, so a damaged or hostile file
// cannot fill the disk through one entry (a hub's database stays far
// below it).
const maxMember = 64 << 30

// Summary says what a backup or a restore copied.
type Summary struct {
	Databases []string // relative paths of the SQLite files
	Files     []string // relative paths of the other files
	Bytes     int64
}

// skipped reports files a backup leaves out: SQLite's own side files
// (their content is in the snapshot), temporary files, and the hub's old
// files kept after their merge into hub.db (console.db.merged: their
// data is in hub.db).
func skipped(name string) bool {
	for _, suffix := range []string{"-wal", "-shm", "-journal", ".merged"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	base := filepath.Base(name)
	return strings.HasPrefix(base, ".") || strings.HasSuffix(base, ".tmp")
}

// Write copies the data folder dir into the file out (created 0600,
// written to a temporary name and renamed, so a failed backup leaves no
// half file under the name). now stamps the manifest.
func Write(ctx context.Context, dir, out string, now time.Time) (Summary, error) {
	var sum Summary
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return sum, fmt.Errorf("no data folder at %s: give the folder to back up", dir)
	}
	tmpDir, err := os.MkdirTemp(filepath.Dir(out), ".backup-*")
	if err != nil {
		return sum, err
	}
	defer os.RemoveAll(tmpDir)
	f, err := os.OpenFile(filepath.Join(tmpDir, "out"), os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	manifest := fmt.Sprintf("gatepost backup\nmade %s\nfrom %s\n", now.UTC().Format(time.RFC3339), dir)
	if err := addBytes(tw, Manifest, []byte(manifest), now); err != nil {
		return sum, err
	}
	var names []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && !skipped(path) {
			names = append(names, path)
		}
		return nil
	})
	if err != nil {
		return sum, err
	}
	sort.Strings(names)
	for i, path := range names {
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		src := path
		if isSQLite(path) {
			snap := filepath.Join(tmpDir, fmt.Sprintf("db-%d", i))
			if err := vacuumInto(ctx, path, snap); err != nil {
				return sum, fmt.Errorf("back up %s: %w", rel, err)
			}
			src = snap
			sum.Databases = append(sum.Databases, rel)
		} else {
			sum.Files = append(sum.Files, rel)
		}
		n, err := addFile(tw, rel, src)
		if err != nil {
			return sum, fmt.Errorf("back up %s: %w", rel, err)
		}
		sum.Bytes += n
	}
	if err := tw.Close(); err != nil {
		return sum, err
	}
	if err := zw.Close(); err != nil {
		return sum, err
	}
	if err := f.Sync(); err != nil {
		return sum, err
	}
	if err := f.Close(); err != nil {
		return sum, err
	}
	return sum, os.Rename(f.Name(), out)
}

// isSQLite reports whether path is an SQLite database, by its header.
func isSQLite(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 16)
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == "SQLite format 3\x00"
}

// vacuumInto writes a consistent copy of the database at src to dst: one
// read transaction, so writers go on meanwhile and the copy is whole.
func vacuumInto(ctx context.Context, src, dst string) error {
	u := url.URL{Path: src}
	db, err := sql.Open("sqlite", "file:"+u.EscapedPath()+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "VACUUM INTO ?", dst)
	return err
}

func addBytes(tw *tar.Writer, name string, b []byte, now time.Time) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: now, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := tw.Write(b)
	return err
}

func addFile(tw *tar.Writer, name, src string) (int64, error) {
	f, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	h := &tar.Header{Name: name, Mode: int64(fi.Mode().Perm()), Size: fi.Size(), ModTime: fi.ModTime(), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(h); err != nil {
		return 0, err
	}
	return io.Copy(tw, f)
}

// ErrNotEmpty is returned when a restore would overwrite data.
var ErrNotEmpty = errors.New("the folder to restore into is not empty")

// Restore unpacks the backup in into dir, which must not exist or be
// empty: a restore never overwrites data. Every database restored is
// checked (PRAGMA quick_check) before Restore returns.
func Restore(ctx context.Context, in, dir string) (Summary, error) {
	var sum Summary
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return sum, fmt.Errorf("%w: %s; restore into a new folder, then move it into place with the program stopped", ErrNotEmpty, dir)
	}
	f, err := os.Open(in)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return sum, fmt.Errorf("%s is not a gatepost backup (not gzip): %w", in, err)
	}
	tr := tar.NewReader(zr)
	first := true
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sum, fmt.Errorf("%s is damaged: %w", in, err)
		}
		if first {
			if h.Name != Manifest {
				return sum, fmt.Errorf("%s is not a gatepost backup (no %s first)", in, Manifest)
			}
			first = false
			continue
		}
		if h.Typeflag != tar.TypeReg || h.Size > maxMember || !filepath.IsLocal(h.Name) {
			return sum, fmt.Errorf("%s holds %q, which a gatepost backup never does: refused", in, h.Name)
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return sum, err
		}
		n, err := writeMember(tr, path, fs.FileMode(h.Mode).Perm())
		if err != nil {
			return sum, fmt.Errorf("restore %s: %w", h.Name, err)
		}
		sum.Bytes += n
		if isSQLite(path) {
			if err := quickCheck(ctx, path); err != nil {
				return sum, fmt.Errorf("restore %s: %w", h.Name, err)
			}
			sum.Databases = append(sum.Databases, h.Name)
		} else {
			sum.Files = append(sum.Files, h.Name)
		}
	}
	if first {
		return sum, fmt.Errorf("%s is empty", in)
	}
	return sum, nil
}

func writeMember(r io.Reader, path string, mode fs.FileMode) (int64, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, mode|0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, io.LimitReader(r, maxMember))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}

func quickCheck(ctx context.Context, path string) error {
	u := url.URL{Path: path}
	db, err := sql.Open("sqlite", "file:"+u.EscapedPath()+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return fmt.Errorf("integrity check failed: %s", res)
	}
	return nil
}
