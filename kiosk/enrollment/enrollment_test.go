package enrollment

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/kiosk/enrollment/enrollmenttest"
	"github.com/gatepost/gatepost/protocol"
)

func TestSaveLoad(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	if _, enrolled, err := Load(dir); enrolled || err != nil {
		t.Fatalf("Load of a folder with no enrollment = %v, %v; want not enrolled, no error", enrolled, err)
	}
	ca := enrollmenttest.NewCA(t, "hub CA")
	a := enrollmenttest.Answer("huamu-1", "gate-1", "tls://hub.huamu.local:8883", ca)
	if err := Save(dir, a); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(Path(dir))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("enrollment file: %v, %v; want mode 0600", fi, err)
	}
	got, enrolled, err := Load(dir)
	if err != nil || !enrolled || got != a {
		t.Fatalf("Load = %+v, %v, %v; want %+v", got, enrolled, err, a)
	}
	// Re-enrolling replaces it, and leaves no temporary file behind.
	b := enrollmenttest.Answer("huamu-1", "gate-1", "tls://hub2.huamu.local:8883", nil)
	if err := Save(dir, b); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := Load(dir); got != b {
		t.Fatalf("after a second Save, Load = %+v, want %+v", got, b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("data folder holds %v, want the enrollment alone", entries)
	}
}

func TestSaveRefusesAnInvalidAnswer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := enrollmenttest.Answer("huamu-1", "gate-1", "tls://hub:8883", nil)
	if err := Save(dir, good); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Username = "huamu-1/gate-2"
	if err := Save(dir, bad); err == nil {
		t.Fatal("Save of an answer for another login succeeded")
	}
	notCA := good
	notCA.CA = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
	if err := Save(dir, notCA); err == nil {
		t.Fatal("Save of an answer with a broken CA succeeded")
	}
	if got, _, err := Load(dir); err != nil || got != good {
		t.Fatalf("after refused saves, Load = %+v, %v; want the first enrollment kept", got, err)
	}
}

func TestLoadRefuses(t *testing.T) {
	t.Parallel()
	good, _ := json.Marshal(enrollmenttest.Answer("huamu-1", "gate-1", "tls://hub:8883", nil))
	for name, tc := range map[string]struct {
		data string
		mode os.FileMode
		want string
	}{
		"readable by others": {string(good), 0o644, "chmod 600"},
		"group writable":     {string(good), 0o620, "chmod 600"},
		"not JSON":           {"{", 0o600, "damaged"},
		"two values":         {string(good) + string(good), 0o600, "damaged"},
		"unknown field":      {strings.Replace(string(good), `"v"`, `"x":1,"v"`, 1), 0o600, "damaged"},
		"invalid":            {strings.Replace(string(good), `tls://`, `http://`, 1), 0o600, "broker"},
		"oversize":           {strings.Repeat(" ", maxFile+10), 0o600, "damaged"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(Path(dir), []byte(tc.data), tc.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(Path(dir), tc.mode)
			_, enrolled, err := Load(dir)
			if err == nil || enrolled || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, %v; want a refusal saying %q", enrolled, err, tc.want)
			}
			if tc.mode != 0o600 && !errors.Is(err, ErrExposed) {
				t.Errorf("Load = %v, want ErrExposed", err)
			}
		})
	}
}

func TestTLSConfigTrustsTheCAAlone(t *testing.T) {
	t.Parallel()
	ca := enrollmenttest.NewCA(t, "hub CA")
	cfg, err := TLSConfig(enrollmenttest.Answer("huamu-1", "gate-1", "tls://hub:8883", ca), "hub")
	if err != nil || cfg.RootCAs == nil || cfg.ServerName != "hub" || cfg.InsecureSkipVerify {
		t.Fatalf("TLSConfig = %+v, %v", cfg, err)
	}
	if _, err := TLSConfig(enrollmenttest.Answer("huamu-1", "gate-1", "tls://hub:8883", nil), "hub"); err == nil ||
		!strings.Contains(err.Error(), "enroll the kiosk again") {
		t.Fatalf("TLSConfig with no CA = %v, want a refusal", err)
	}
}

func FuzzParse(f *testing.F) {
	ca := enrollmenttest.NewCA(f, "hub CA")
	for _, a := range []protocol.EnrollAnswer{
		enrollmenttest.Answer("huamu-1", "gate-1", "tls://hub:8883", ca),
		enrollmenttest.Answer("huamu-1", "gate-1", "tcp://127.0.0.1:1883", nil),
	} {
		b, _ := json.Marshal(a)
		f.Add(b)
	}
	f.Add([]byte(`{"v":1,"ca":"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Parse(b)
		if err != nil {
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid answer: %v", err)
		}
		again, _ := json.Marshal(a)
		if back, err := Parse(again); err != nil || back != a {
			t.Fatalf("a parsed answer does not round-trip: %+v, %v", back, err)
		}
	})
}
