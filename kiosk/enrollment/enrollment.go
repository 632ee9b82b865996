// Package enrollment keeps what a kiosk received when it enrolled at the
// hub (a protocol.EnrollAnswer: its broker login, the hub's downlink key
// and the CA to pin) in DATA_DIR/enrollment.json, readable by the kiosk's
// user alone, and fetches it: Redeem sends an enrollment code to the hub's
// HTTPS listener, trusting only the CA the code pins.
//
// The kiosk's enroll command and its daemon import enrollment; it imports
// protocol only.
package enrollment

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gatepost/gatepost/protocol"
)

// FileName is the enrollment's file in the kiosk's data folder.
const FileName = "enrollment.json"

// maxFile bounds what Load reads: an answer is well under 16 KiB.
const maxFile = 64 << 10

// ErrExposed: the enrollment file can be read or written by others than
// its owner, so its broker secret may have been copied.
var ErrExposed = errors.New("the enrollment file is readable by others")

// Path is the enrollment file of dataDir.
func Path(dataDir string) string { return filepath.Join(dataDir, FileName) }

// Load reads the enrollment in dataDir. enrolled is false, with no error,
// when the kiosk has none. A file others may read, or one that does not
// hold a valid answer, is an error that says what to do.
func Load(dataDir string) (a protocol.EnrollAnswer, enrolled bool, err error) {
	path := Path(dataDir)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return protocol.EnrollAnswer{}, false, nil
	}
	if err != nil {
		return protocol.EnrollAnswer{}, false, fmt.Errorf("enrollment: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return protocol.EnrollAnswer{}, false, fmt.Errorf("enrollment: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return protocol.EnrollAnswer{}, false, fmt.Errorf("%w: %s has mode %v; it must be 0600 (chmod 600 %s), and if others may have copied it, retire the kiosk at the hub and enroll it again",
			ErrExposed, path, fi.Mode().Perm(), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return protocol.EnrollAnswer{}, false, fmt.Errorf("enrollment: %w", err)
	}
	a, err = Parse(b)
	if err != nil {
		return protocol.EnrollAnswer{}, false, fmt.Errorf("enrollment %s is damaged (%w): enroll the kiosk again (kiosk enroll)", path, err)
	}
	return a, true, nil
}

// Parse reads and checks an enrollment as Save writes it (and as the hub
// answers it): a valid protocol.EnrollAnswer whose CA, if any, is one PEM
// certificate.
func Parse(b []byte) (protocol.EnrollAnswer, error) {
	var a protocol.EnrollAnswer
	if len(b) > maxFile {
		return a, fmt.Errorf("%d bytes, over the %d limit", len(b), maxFile)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return protocol.EnrollAnswer{}, fmt.Errorf("not an enrollment: %w", err)
	}
	if dec.More() {
		return protocol.EnrollAnswer{}, errors.New("not an enrollment: more than one JSON value")
	}
	if err := a.Validate(); err != nil {
		return protocol.EnrollAnswer{}, err
	}
	if a.CA != "" {
		if _, err := ParseCA(a.CA); err != nil {
			return protocol.EnrollAnswer{}, err
		}
	}
	return a, nil
}

// Save writes a to dataDir, 0600, replacing any enrollment there: through
// a temporary file, synced and renamed, so a crash leaves the old
// enrollment or the new one, whole.
func Save(dataDir string, a protocol.EnrollAnswer) error {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	if _, err := Parse(b); err != nil {
		return fmt.Errorf("save enrollment: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("save enrollment: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, FileName+".*")
	if err != nil {
		return fmt.Errorf("save enrollment: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing to remove
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(append(b, '\n'))
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), Path(dataDir))
	}
	if err != nil {
		return fmt.Errorf("save enrollment: %w", err)
	}
	// The rename itself must survive a power cut.
	if d, err := os.Open(dataDir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// ParseCA reads the one PEM certificate of an answer's CA field; it must
// be a CA.
func ParseCA(caPEM string) (*x509.Certificate, error) {
	block, rest := pem.Decode([]byte(caPEM))
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("ca: not one PEM certificate")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	if !c.IsCA {
		return nil, errors.New("ca: the certificate is not a CA")
	}
	return c, nil
}

// Fingerprint is a certificate's SHA-256 in hex, as enrollment codes pin
// it (the hub's pki.Fingerprint).
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// TLSConfig is the TLS configuration of the kiosk's broker connection: it
// trusts the enrollment's CA alone. serverName is the broker URL's host.
func TLSConfig(a protocol.EnrollAnswer, serverName string) (*tls.Config, error) {
	if a.CA == "" {
		return nil, fmt.Errorf("the enrollment holds no CA to check the broker %s by: the hub gave none (a loopback-only hub); enroll the kiosk again from a hub with TLS (hub tls init)", a.Broker)
	}
	ca, err := ParseCA(a.CA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}, nil
}
