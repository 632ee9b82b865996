package datadir

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestSecretsAreMadeOnceAndKeptPrivate(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	var wg sync.WaitGroup
	keys := make([]string, 8)
	for i := range keys {
		wg.Go(func() {
			k, err := d.DownlinkKey()
			if err != nil {
				t.Error(err)
				return
			}
			keys[i] = string(k)
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if k != keys[0] {
			t.Fatal("starts at once made two downlink keys")
		}
	}
	user, pw, err := d.BrokerLogin()
	if err != nil || user != HubUser || len(pw) < 40 {
		t.Fatalf("BrokerLogin = %q, %q, %v", user, pw, err)
	}
	if _, pw2, _ := d.BrokerLogin(); pw2 != pw {
		t.Fatal("the hub's broker password changed between calls")
	}
	for _, f := range []string{DownlinkKeyFile, BrokerLoginFile} {
		fi, err := os.Stat(filepath.Join(d.Path, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, %v", f, fi.Mode(), err)
		}
	}
	os.Chmod(filepath.Join(d.Path, DownlinkKeyFile), 0o644)
	if _, err := d.DownlinkKey(); !errors.Is(err, ErrExposed) {
		t.Fatalf("a readable key file was used: %v", err)
	}
	os.WriteFile(filepath.Join(d.Path, BrokerLoginFile), []byte("not base64!\n"), 0o600)
	if _, _, err := d.BrokerLogin(); err == nil {
		t.Fatal("a damaged login file was used")
	}
}

func TestRegistryOpens(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	r, err := d.OpenRegistry()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !hasTable(t, d.RecordsPath(), "enrolled_kiosks") {
		t.Fatal("the registry's tables are not in hub.db")
	}
}
