package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// mosquitto is a broker process started by the benchmark.
type mosquitto struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func mosquittoPath() (string, error) {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto", nil
	}
	return "", errors.New("mosquitto is not installed (apt-get install -y mosquitto)")
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startMosquitto runs mosquitto with extra configuration lines on addr:
// open to anonymous clients unless the extra lines give a password file.
func startMosquitto(ctx context.Context, dir, name, addr, extra string) (*mosquitto, error) {
	path, err := mosquittoPath()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	conf := filepath.Join(dir, name+".conf")
	anonymous := "true"
	if strings.Contains(extra, "password_file") {
		anonymous = "false"
	}
	body := "listener " + port + " 127.0.0.1\nallow_anonymous " + anonymous + "\n" + extra
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "-c", conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	m := &mosquitto{addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(m.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return m, nil
		}
		select {
		case <-m.done:
			out, _ := os.ReadFile(logf.Name())
			return nil, fmt.Errorf("mosquitto %s exited: %s", name, out)
		case <-ctx.Done():
			m.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.stop()
			return nil, fmt.Errorf("mosquitto %s not listening on %s after 10s", name, addr)
		}
	}
}

func (m *mosquitto) url() string { return "tcp://" + m.addr }

func (m *mosquitto) stop() {
	m.cmd.Process.Kill()
	<-m.done
}
