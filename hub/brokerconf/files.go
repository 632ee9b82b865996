package brokerconf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// The files `hub broker-config mosquitto` writes into its folder.
const (
	PasswordFileName  = "password_file"
	ACLFileName       = "acl_file"
	MosquittoConfName = "mosquitto.conf"
)

// MosquittoTLS names the broker's certificate files for the TLS listener
// lines of the conf snippet: the hub's own, from `hub tls init`.
type MosquittoTLS struct {
	CAFile, CertFile, KeyFile string
}

// WriteMosquittoConf writes a mosquitto.conf snippet that puts the
// password_file and acl_file in dir in force and gives client-id takeover
// no room. The TLS listener lines are commented out, for the operator to
// place; with tlsFiles nil they say how to make the certificates first.
func WriteMosquittoConf(w io.Writer, dir string, tlsFiles *MosquittoTLS) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, `# Written by `+"`hub broker-config mosquitto`"+`. Include it in mosquitto.conf
# (e.g. copy it to /etc/mosquitto/conf.d/gatepost.conf) and reload Mosquitto
# after every run of the command: systemctl reload mosquitto, or
# kill -HUP $(pidof mosquitto).

# One set of rules for every listener, no anonymous clients.
per_listener_settings false
allow_anonymous false
password_file %s
acl_file %s

# Every listener needs "use_username_as_clientid true" under it (Mosquitto
# sets it per listener; before any listener line it would open a default
# one on port 1883 of every interface). The client id is then the username,
# so nobody can take over a kiosk's session by connecting with its client
# id; each hub process so needs an account of its own.

# Plain MQTT, for a hub on this same machine only:
# listener 1883 127.0.0.1
# use_username_as_clientid true
`, filepath.Join(dir, PasswordFileName), filepath.Join(dir, ACLFileName))
	if tlsFiles == nil {
		b.WriteString(`
# TLS for the kiosks: run ` + "`hub tls init --name HOST`" + ` and this command again
# for the lines with the hub's certificate, or give your own here.
# listener 8883
# use_username_as_clientid true
# cafile /etc/mosquitto/certs/ca.crt
# certfile /etc/mosquitto/certs/server.crt
# keyfile /etc/mosquitto/certs/server.key
# tls_version tlsv1.2
`)
	} else {
		fmt.Fprintf(&b, `
# TLS for the kiosks, with the hub's certificate (`+"`hub tls init`"+`). Mosquitto
# runs as its own user: if it cannot read these, copy them to
# /etc/mosquitto/certs/ and give them to that user (the key stays 0600).
# listener 8883
# use_username_as_clientid true
# cafile %s
# certfile %s
# keyfile %s
# tls_version tlsv1.2
`, tlsFiles.CAFile, tlsFiles.CertFile, tlsFiles.KeyFile)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteMosquitto writes password_file (0600), acl_file and the conf
// snippet (0644) into dir, each atomically, so that a Mosquitto reloading
// meanwhile reads the old file or the new one, never half of one.
func WriteMosquitto(dir string, accounts []Account, tlsFiles *MosquittoTLS) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	var pw, acl, conf bytes.Buffer
	if err := WritePasswordFile(&pw, accounts); err != nil {
		return err
	}
	if err := WriteACL(&acl, accounts); err != nil {
		return err
	}
	if err := WriteMosquittoConf(&conf, abs, tlsFiles); err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return fmt.Errorf("broker config folder: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
		mode fs.FileMode
	}{{PasswordFileName, pw.Bytes(), 0o600}, {ACLFileName, acl.Bytes(), 0o644}, {MosquittoConfName, conf.Bytes(), 0o644}} {
		if err := WriteFileAtomic(filepath.Join(abs, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

// WriteFileAtomic replaces path with data: written to a temporary file in
// the same folder, synced, then renamed over path. A file that existed
// keeps its owner and group (Mosquitto reads it as its own user); if that
// cannot be done the old file is left as it was.
func WriteFileAtomic(path string, data []byte, mode fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode) // CreateTemp makes 0600; the umask does not apply to Chmod
	}
	if err == nil {
		err = keepOwner(tmp, path)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	return nil
}

// keepOwner gives tmp the owner and group of the file it will replace.
func keepOwner(tmp *os.File, path string) error {
	old, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	st, ok := old.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	now, err := tmp.Stat()
	if err != nil {
		return err
	}
	if cur, ok := now.Sys().(*syscall.Stat_t); ok && cur.Uid == st.Uid && cur.Gid == st.Gid {
		return nil
	}
	if err := tmp.Chown(int(st.Uid), int(st.Gid)); err != nil {
		return fmt.Errorf("the new file cannot keep the owner (uid %d, gid %d) of the one it replaces, and the broker may not read it: run the command as root or as that user (%w)",
			st.Uid, st.Gid, err)
	}
	return nil
}
