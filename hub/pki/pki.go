// Package pki makes and reads the hub's private certificate authority and
// the server certificate it signs, for TLS on the MQTT broker and the
// enrollment listener (and the console): `hub tls init`. Kiosks pin the CA, so no public CA and no
// internet are needed; the CA's fingerprint travels in enrollment codes.
//
// The hub's commands and server import pki; it imports nothing of ours.
package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The files, in the hub's data folder under tls/.
const (
	Dir        = "tls"
	CACert     = "ca.crt"
	CAKey      = "ca.key"
	ServerCert = "server.crt"
	ServerKey  = "server.key"
)

// Options say what to make.
type Options struct {
	// Names are the host names and IP addresses kiosks dial the hub by;
	// the server certificate is valid for exactly these.
	Names []string
	// CAValidity and ServerValidity default to 10 years and 2 years.
	CAValidity, ServerValidity time.Duration
	Now                        time.Time // zero is time.Now()
}

// ErrExists: Init will not overwrite an authority that kiosks may pin.
var ErrExists = errors.New("a CA already exists")

// Init makes a CA and a server certificate under dataDir/tls. It refuses
// to replace an existing CA (kiosks pin it); a new server certificate for
// the same CA is Renew's job.
func Init(dataDir string, o Options) (*Files, error) {
	dir := filepath.Join(dataDir, Dir)
	if _, err := os.Stat(filepath.Join(dir, CACert)); err == nil {
		return nil, fmt.Errorf("%w in %s: kiosks pin it, so it is kept; use `hub tls renew` for a new server certificate", ErrExists, dir)
	}
	if err := checkNames(o.Names); err != nil {
		return nil, err
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("make CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "gatepost hub CA", Organization: []string{"gatepost"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(or(o.CAValidity, 10*365*24*time.Hour)),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("make CA: %w", err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := writePEM(filepath.Join(dir, CAKey), "EC PRIVATE KEY", mustEC(caKey), 0o600); err != nil {
		return nil, err
	}
	if err := writePEM(filepath.Join(dir, CACert), "CERTIFICATE", caDER, 0o644); err != nil {
		return nil, err
	}
	if err := issueServer(dir, ca, caKey, o.Names, now, or(o.ServerValidity, 2*365*24*time.Hour)); err != nil {
		return nil, err
	}
	return Load(dataDir)
}

// Renew issues a new server certificate from the existing CA, for names
// (the old certificate's names when empty).
func Renew(dataDir string, o Options) (*Files, error) {
	f, err := Load(dataDir)
	if err != nil {
		return nil, err
	}
	caKey, err := readECKey(filepath.Join(f.Dir, CAKey))
	if err != nil {
		return nil, err
	}
	names := o.Names
	if len(names) == 0 {
		names = f.Names()
	}
	if err := checkNames(names); err != nil {
		return nil, err
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	if err := issueServer(f.Dir, f.CA, caKey, names, now, or(o.ServerValidity, 2*365*24*time.Hour)); err != nil {
		return nil, err
	}
	return Load(dataDir)
}

func issueServer(dir string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, names []string, now time.Time, validity time.Duration) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("make server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: names[0], Organization: []string{"gatepost"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fmt.Errorf("make server certificate: %w", err)
	}
	if err := writePEM(filepath.Join(dir, ServerKey), "EC PRIVATE KEY", mustEC(key), 0o600); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, ServerCert), "CERTIFICATE", der, 0o644)
}

// Files are the CA and server certificate as loaded.
type Files struct {
	Dir    string
	CA     *x509.Certificate
	Server tls.Certificate
	Leaf   *x509.Certificate
}

// Load reads dataDir/tls.
func Load(dataDir string) (*Files, error) {
	dir := filepath.Join(dataDir, Dir)
	caPEM, err := os.ReadFile(filepath.Join(dir, CACert))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no CA in %s: run `hub tls init --name HOST`: %w", dir, err)
	}
	if err != nil {
		return nil, err
	}
	ca, err := ParseCert(caPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, CACert), err)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, ServerCert), filepath.Join(dir, ServerKey))
	if err != nil {
		return nil, fmt.Errorf("server certificate in %s: %w", dir, err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: leaf.NotBefore.Add(time.Hour)}); err != nil {
		return nil, fmt.Errorf("%s is not signed by %s: %w", filepath.Join(dir, ServerCert), filepath.Join(dir, CACert), err)
	}
	return &Files{Dir: dir, CA: ca, Server: pair, Leaf: leaf}, nil
}

// Names are the host names and addresses the server certificate is for.
func (f *Files) Names() []string {
	names := append([]string(nil), f.Leaf.DNSNames...)
	for _, ip := range f.Leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}

// ServerConfig is the TLS configuration of a listener serving f. The
// chain it sends is the server certificate and then the CA itself, so
// that a kiosk holding only the CA's fingerprint (from its enrollment
// code) finds the certificate to pin in the handshake.
func (f *Files) ServerConfig() *tls.Config {
	cert := f.Server
	cert.Certificate = append([][]byte(nil), f.Server.Certificate...)
	if last := cert.Certificate[len(cert.Certificate)-1]; !bytes.Equal(last, f.CA.Raw) {
		cert.Certificate = append(cert.Certificate, f.CA.Raw)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

// CAPEM is the CA certificate in PEM, as a kiosk stores it to pin.
func (f *Files) CAPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.CA.Raw})
}

// Path is where a file of the set is: Path(CACert).
func (f *Files) Path(name string) string { return filepath.Join(f.Dir, name) }

// ClientConfig trusts the CA in caPEM alone (a kiosk's pin).
func ClientConfig(caPEM []byte) (*tls.Config, error) {
	ca, err := ParseCert(caPEM)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// CAOrNil is the CA of f, nil for no files (a folder without `hub tls
// init`).
func (f *Files) CAOrNil() *x509.Certificate {
	if f == nil {
		return nil
	}
	return f.CA
}

// Fingerprint is the SHA-256 of a certificate, in hex: what an
// enrollment code carries to pin the CA.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// ParseCert reads one PEM certificate.
func ParseCert(b []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("not a PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

func checkNames(names []string) error {
	if len(names) == 0 {
		return errors.New("no --name: give the host names or IP addresses kiosks dial the hub by")
	}
	for _, n := range names {
		if n == "" || strings.ContainsAny(n, " /:*") && net.ParseIP(n) == nil {
			return fmt.Errorf("--name %q: not a host name or IP address", n)
		}
	}
	return nil
}

func readECKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s: not a PEM key", path)
	}
	return x509.ParseECPrivateKey(block.Bytes)
}

func writePEM(path, kind string, der []byte, mode os.FileMode) error {
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	err = pem.Encode(f, &pem.Block{Type: kind, Bytes: der})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}

func mustEC(k *ecdsa.PrivateKey) []byte {
	b, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic(err) // a P-256 key we just made always marshals
	}
	return b
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return n
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
