package zzchk

import (
	"crypto/tls"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/pki"
)

func TestX(t *testing.T) {
	data := t.TempDir()
	if _, err := pki.Init(data, pki.Options{Names: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(data, "tls")
	conf := "user root\nlistener 18932 127.0.0.1\nallow_anonymous true\ncafile " + d + "/ca.crt\ncertfile " + d + "/server.crt\nkeyfile " + d + "/server.key\n"
	os.WriteFile(filepath.Join(data, "m.conf"), []byte(conf), 0o600)
	cmd := exec.Command("/usr/sbin/mosquitto", "-c", filepath.Join(data, "m.conf"))
	cmd.Stderr = os.Stderr
	cmd.Start()
	defer cmd.Process.Kill()
	time.Sleep(500 * time.Millisecond)
	caPEM, _ := os.ReadFile(d + "/ca.crt")
	cfg, _ := pki.ClientConfig(caPEM)
	cfg.ServerName = "127.0.0.1"
	c, err := tls.Dial("tcp", "127.0.0.1:18932", cfg)
	t.Logf("err=%v", err)
	if c != nil {
		t.Logf("chain=%d", len(c.ConnectionState().PeerCertificates))
		c.Close()
	}
	out, _ := exec.Command("openssl", "x509", "-in", d+"/server.crt", "-noout", "-text").CombinedOutput()
	t.Logf("%s", out)
}
