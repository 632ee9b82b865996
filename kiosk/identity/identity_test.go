package identity

import (
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateMakesOneKeyAndKeepsIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k, created, err := LoadOrCreate(dir)
	if err != nil || !created {
		t.Fatalf("LoadOrCreate(new folder) = %v, created %v", err, created)
	}
	fi, err := os.Stat(k.Path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	again, created, err := LoadOrCreate(dir)
	if err != nil || created || !again.Public.Equal(k.Public) {
		t.Fatalf("second LoadOrCreate = %v, created %v, same key %v", err, created, again != nil && again.Public.Equal(k.Public))
	}
	msg := []byte("enroll huamu-1 gate-1")
	if !ed25519.Verify(again.Public, msg, ed25519.Sign(k.Private, msg)) {
		t.Fatal("the loaded key does not verify what the made key signed")
	}
	if len(k.Fingerprint()) != 32 {
		t.Errorf("Fingerprint() = %q", k.Fingerprint())
	}
	left, _ := filepath.Glob(filepath.Join(dir, FileName+".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestConcurrentStartsMakeOneKey(t *testing.T) {
	dir := t.TempDir()
	keys := make([]*Key, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, _, err := LoadOrCreate(dir)
			if err != nil {
				t.Error(err)
				return
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if k == nil || !k.Public.Equal(keys[0].Public) {
			t.Fatal("two starts at once ended with two different keys")
		}
	}
}

func TestLoadRefusesExposedOrDamagedKeys(t *testing.T) {
	dir := t.TempDir()
	k, _, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(k.Path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); !errors.Is(err, ErrExposed) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("Load(0644 key) = %v, want ErrExposed saying chmod 600", err)
	}
	if _, _, err := LoadOrCreate(dir); !errors.Is(err, ErrExposed) {
		t.Fatalf("LoadOrCreate(0644 key) = %v: it must not make a new key over an exposed one", err)
	}
	os.Chmod(k.Path, 0o600)
	os.WriteFile(k.Path, []byte("not a key"), 0o600)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("Load(garbage) = %v, want 'damaged'", err)
	}
	if _, err := Load(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load(empty folder) = %v, want ErrNotExist", err)
	}
}
