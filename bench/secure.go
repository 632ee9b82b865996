package main

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gatepost/gatepost/hub/brokerconf"
	"github.com/gatepost/gatepost/hub/datadir"
	hublink "github.com/gatepost/gatepost/hub/link"
	"github.com/gatepost/gatepost/hub/pki"
)

// link is how the drain's kiosk and hub reach their Mosquitto: plain TCP
// with the broker open (the comparison with the bridges as they were
// measured before kiosks had logins), or closed as a deployment runs it:
// TLS with the hub's CA, Mosquitto's password file and ACL from the
// registry, each client under its own login.
type link struct {
	secure   bool
	url      string      // tcp:// or tls://
	extra    string      // Mosquitto conf lines
	kioskTLS *tls.Config // nil for plain
	brokerCA string      // the hub's --broker-ca; "" for plain
	user     string      // the kiosk's login
	secret   string
	key      ed25519.PrivateKey // the kiosk's key, enrolled: it signs every batch
}

func (l link) name() string {
	if l.secure {
		return "TLS, logins, ACL"
	}
	return "plain TCP, open broker"
}

// enrollBench enrolls the drain's kiosk in the hub's registry (hubDir), as
// `hub kiosks add` does, and, when secure, makes the hub's CA and writes
// Mosquitto's access files from the registry, as `hub tls init` and `hub
// broker-config mosquitto` do. Every drain enrolls its kiosk: the hub
// takes batches from enrolled kiosks only.
func enrollBench(ctx context.Context, dir, hubDir, addr string, secure bool) (link, error) {
	if err := os.MkdirAll(hubDir, 0o750); err != nil {
		return link{}, err
	}
	d := datadir.Dir{Path: hubDir}
	reg, err := d.OpenRegistry()
	if err != nil {
		return link{}, err
	}
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		reg.Close()
		return link{}, err
	}
	creds, err := reg.Add(ctx, "site-1", "bench-1", pub)
	reg.Close()
	if err != nil {
		return link{}, err
	}
	l := link{secure: secure, url: "tcp://" + addr, user: creds.Username, secret: creds.Secret, key: priv}
	if !secure {
		return l, nil
	}
	files, err := pki.Init(hubDir, pki.Options{Names: []string{"127.0.0.1"}})
	if err != nil {
		return link{}, err
	}
	hubUser, hubPass, err := d.BrokerLogin()
	if err != nil {
		return link{}, err
	}
	kioskHash, err := brokerconf.MosquittoHash(creds.Secret)
	if err != nil {
		return link{}, err
	}
	hubHash, err := brokerconf.MosquittoHash(hubPass)
	if err != nil {
		return link{}, err
	}
	access := filepath.Join(dir, "access")
	if err := brokerconf.WriteMosquitto(access, []brokerconf.Account{
		{Site: "site-1", Kiosk: "bench-1", Username: creds.Username, Hash: kioskHash},
		{Hub: true, Username: hubUser, Hash: hubHash},
		{Hub: true, Username: hubUser + hublink.IngestSuffix, Hash: hubHash},
	}, nil); err != nil {
		return link{}, err
	}
	tlsDir := filepath.Join(hubDir, pki.Dir)
	l.url = "tls://" + addr
	l.extra = fmt.Sprintf("cafile %s\ncertfile %s\nkeyfile %s\nuse_username_as_clientid true\npassword_file %s\nacl_file %s\n",
		filepath.Join(tlsDir, pki.CACert), filepath.Join(tlsDir, pki.ServerCert), filepath.Join(tlsDir, pki.ServerKey),
		filepath.Join(access, brokerconf.PasswordFileName), filepath.Join(access, brokerconf.ACLFileName))
	if os.Geteuid() == 0 {
		l.extra += "user root\n" // else Mosquitto drops to "mosquitto", who cannot read the keys
	}
	if l.kioskTLS, err = pki.ClientConfig(files.CAPEM()); err != nil {
		return link{}, err
	}
	l.brokerCA = filepath.Join(tlsDir, pki.CACert)
	return l, nil
}
