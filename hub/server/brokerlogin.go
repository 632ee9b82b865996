package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/gatepost/gatepost/hub/datadir"
)

// brokerLogin is how the hub's link logs in to the broker.
type brokerLogin struct {
	user, password string
	tls            *tls.Config // nil: plain TCP
}

// brokerLogin resolves c's broker settings (see Config.BrokerUsername):
// the username, the password from where it was given or the data
// folder's own, and the TLS configuration for a tls:// broker.
func (c Config) brokerLogin() (brokerLogin, error) {
	var l brokerLogin
	switch {
	case c.BrokerPassword != "":
		l.user, l.password = c.BrokerUsername, c.BrokerPassword
	case c.BrokerPasswordFile != "":
		pw, err := readPasswordFile(c.BrokerPasswordFile)
		if err != nil {
			return l, err
		}
		l.user, l.password = c.BrokerUsername, pw
	default:
		user, pw, err := datadir.Dir{Path: c.DataDir}.BrokerLogin()
		if err != nil {
			return l, fmt.Errorf("the hub's broker login: %w", err)
		}
		l.user, l.password = c.BrokerUsername, pw
		if l.user == "" {
			l.user = user
		}
	}
	if l.user == "" {
		l.user = datadir.HubUser
	}
	if c.Broker == "" || !brokerTLS(c.Broker) {
		return l, nil
	}
	l.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	if c.BrokerCA != "" {
		pem, err := os.ReadFile(c.BrokerCA)
		if err != nil {
			return l, fmt.Errorf("broker CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return l, fmt.Errorf("broker CA %s holds no PEM certificate: give the CA file the broker's certificate is signed by (for the hub's own CA, tls/ca.crt in its data folder)", c.BrokerCA)
		}
		l.tls.RootCAs = pool
	}
	return l, nil
}

// readPasswordFile reads a password kept alone in a file, without its
// final line break. A file others may read is refused: the password opens
// the broker to everything the hub may do.
func readPasswordFile(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("broker password file: %w", err)
	}
	if fi.Mode().Perm()&0o007 != 0 {
		return "", fmt.Errorf("broker password file %s is %v, readable by anyone: run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("broker password file: %w", err)
	}
	pw := strings.TrimRight(string(b), "\r\n")
	switch {
	case pw == "":
		return "", fmt.Errorf("broker password file %s is empty: put the hub's broker password in it, on one line", path)
	case strings.ContainsAny(pw, "\r\n"):
		return "", fmt.Errorf("broker password file %s holds more than one line: put the password alone in it", path)
	}
	return pw, nil
}
