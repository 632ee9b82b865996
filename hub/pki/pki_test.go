package pki

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestInitServesTLSThatOnlyThePinnedCATrusts(t *testing.T) {
	dir := t.TempDir()
	f, err := Init(dir, Options{Names: []string{"hub.huamu.local", "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, Dir, CAKey)); fi == nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("CA key mode = %v, want 0600", fi)
	}
	if _, err := Init(dir, Options{Names: []string{"x"}}); !errors.Is(err, ErrExists) {
		t.Fatalf("second Init = %v, want ErrExists (kiosks pin the CA)", err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", f.ServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { c.(*tls.Conn).Handshake(); io.WriteString(c, "ok"); c.Close() }()
		}
	}()
	caPEM, _ := os.ReadFile(filepath.Join(dir, Dir, CACert))
	dial := func(caPEM []byte, name string) error {
		cfg, err := ClientConfig(caPEM)
		if err != nil {
			return err
		}
		cfg.ServerName = name
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), cfg)
		if err != nil {
			return err
		}
		// The chain ends with the CA, so that a kiosk enrolling can find
		// the certificate its code pins by fingerprint.
		if chain := c.ConnectionState().PeerCertificates; len(chain) != 2 || Fingerprint(chain[1]) != Fingerprint(f.CA) {
			t.Errorf("the server presents %d certificates, want its own and the CA", len(chain))
		}
		return c.Close()
	}
	if err := dial(caPEM, "hub.huamu.local"); err != nil {
		t.Fatalf("a kiosk pinning the CA: %v", err)
	}
	if err := dial(caPEM, "127.0.0.1"); err != nil {
		t.Fatalf("by IP: %v", err)
	}
	if err := dial(caPEM, "evil.example"); err == nil {
		t.Fatal("a name not in the certificate was accepted")
	}
	other, err := Init(t.TempDir(), Options{Names: []string{"hub.huamu.local"}})
	if err != nil {
		t.Fatal(err)
	}
	otherPEM, _ := os.ReadFile(filepath.Join(other.Dir, CACert))
	if err := dial(otherPEM, "hub.huamu.local"); err == nil {
		t.Fatal("a kiosk pinning another CA accepted this hub")
	}
	if Fingerprint(f.CA) == Fingerprint(other.CA) || len(Fingerprint(f.CA)) != 64 {
		t.Fatal("CA fingerprints are not distinct hex SHA-256s")
	}
}

func TestRenewKeepsTheCA(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f, err := Init(dir, Options{Names: []string{"hub"}, Now: now, ServerValidity: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	g, err := Renew(dir, Options{Now: now.Add(12 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(g.CA) != Fingerprint(f.CA) {
		t.Fatal("Renew changed the CA")
	}
	if !g.Leaf.NotAfter.After(f.Leaf.NotAfter) || len(g.Names()) != 1 || g.Names()[0] != "hub" {
		t.Fatalf("renewed: until %v (was %v), names %v", g.Leaf.NotAfter, f.Leaf.NotAfter, g.Names())
	}
}

func TestInitRefusesBadNames(t *testing.T) {
	for _, names := range [][]string{nil, {""}, {"a b"}, {"http://hub"}} {
		if _, err := Init(t.TempDir(), Options{Names: names}); err == nil {
			t.Errorf("Init(names %q) = nil, want an error", names)
		}
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("Load of an empty folder = nil")
	}
}

// A kiosk knows only the CA's fingerprint when it enrolls: the handshake
// must carry the CA after the server certificate for it to pin.
func TestServerSendsTheCAForPinningByFingerprint(t *testing.T) {
	f, err := Init(t.TempDir(), Options{Names: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.ServerConfig()
	chain := cfg.Certificates[0].Certificate
	if len(chain) != 2 || !bytes.Equal(chain[1], f.CA.Raw) {
		t.Fatalf("served chain has %d certificates, want the server's then the CA", len(chain))
	}
	if len(f.Server.Certificate) != 1 || len(f.ServerConfig().Certificates[0].Certificate) != 2 {
		t.Fatal("ServerConfig changed f.Server or added the CA twice")
	}
	ca, err := ParseCert(f.CAPEM())
	if err != nil || Fingerprint(ca) != Fingerprint(f.CA) {
		t.Fatalf("CAPEM does not round-trip: %v", err)
	}
	if got, _ := os.ReadFile(f.Path(CACert)); !bytes.Equal(got, f.CAPEM()) {
		t.Fatal("CAPEM differs from ca.crt")
	}
}
