package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gatepost/gatepost/hub/brokerconf"
	"github.com/gatepost/gatepost/hub/datadir"
	hublink "github.com/gatepost/gatepost/hub/link"
	"github.com/gatepost/gatepost/hub/pki"
	"github.com/gatepost/gatepost/hub/server"
)

// fleetSetup is what every run of the fleet benchmark shares: the hub's
// data folder with the kiosks enrolled (copied afresh for each run), its
// CA, and Mosquitto's access files.
type fleetSetup struct {
	template string // the enrolled hub data folder
	access   string // Mosquitto's password_file and acl_file
	hubBin   string // the hub program, built from this tree
	kioskTLS *tls.Config
	kiosks   []*fleetKiosk
	pg       *fleetPostgres // the PostgreSQL runs' server (nil: SQLite only)
}

// enrollFleet enrolls n kiosks (four to a site) in a hub data folder as
// `hub kiosks add` does, makes the hub's CA as `hub tls init` does, and
// writes Mosquitto's access files as `hub broker-config mosquitto
// --replica r1 … --replica rN` does (the logins of one hub and of
// replicas r1 to rN).
func enrollFleet(ctx context.Context, dir string, n, replicas int) (*fleetSetup, error) {
	s := &fleetSetup{template: filepath.Join(dir, "hub-template"), access: filepath.Join(dir, "access")}
	if err := os.MkdirAll(s.template, 0o750); err != nil {
		return nil, err
	}
	d := datadir.Dir{Path: s.template}
	reg, err := d.OpenRegistry()
	if err != nil {
		return nil, err
	}
	defer reg.Close()
	hubUser, hubPass, err := d.BrokerLogin()
	if err != nil {
		return nil, err
	}
	hubHash, err := brokerconf.MosquittoHash(hubPass)
	if err != nil {
		return nil, err
	}
	accounts := []brokerconf.Account{{Hub: true, Username: hubUser, Hash: hubHash},
		{Hub: true, Username: hubUser + hublink.IngestSuffix, Hash: hubHash}}
	for i := range replicas {
		u := server.ReplicaUser(hubUser, replicaID(i))
		accounts = append(accounts, brokerconf.Account{Hub: true, Username: u, Hash: hubHash},
			brokerconf.Account{Hub: true, Username: u + hublink.IngestSuffix, Hash: hubHash})
	}
	for i := range n {
		site, name := fmt.Sprintf("site-%03d", i/4), fmt.Sprintf("gate-%04d", i)
		pub, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			return nil, err
		}
		creds, err := reg.Add(ctx, site, name, pub)
		if err != nil {
			return nil, err
		}
		h, err := brokerconf.MosquittoHash(creds.Secret)
		if err != nil {
			return nil, err
		}
		accounts = append(accounts, brokerconf.Account{Site: site, Kiosk: name, Username: creds.Username, Hash: h})
		s.kiosks = append(s.kiosks, newFleetKiosk(site, name, creds.Username, creds.Secret, priv))
	}
	if err := brokerconf.WriteMosquitto(s.access, accounts, nil); err != nil {
		return nil, err
	}
	// The downlink key is made once here, as an installer's first hub
	// makes it, so that the replicas' copies of the folder share it (a
	// hub on a shared database refuses to start with a key of its own).
	if _, err := d.DownlinkKey(); err != nil {
		return nil, err
	}
	files, err := pki.Init(s.template, pki.Options{Names: []string{"127.0.0.1"}})
	if err != nil {
		return nil, err
	}
	if s.kioskTLS, err = pki.ClientConfig(files.CAPEM()); err != nil {
		return nil, err
	}
	s.hubBin = filepath.Join(dir, "gatepost-hub")
	return s, buildProfiledHub(ctx, dir, s.hubBin)
}

// replicaID names replica i (from 0) of a run: r1, r2, …
func replicaID(i int) string { return fmt.Sprintf("r%d", i+1) }

// mosquittoConf is the broker as deployed (TLS, logins, the ACL), with
// room for what kiosks send while the hub holds back: Mosquitto drops
// QoS 1 messages queued for a client beyond max_queued_messages (1,000 by
// default), and the hub's ingest connection may have every kiosk's
// in-flight batches queued at once. set_tcp_nodelay: without it Nagle's
// algorithm and delayed ACKs add some 40 ms to each small ack.
func (s *fleetSetup) mosquittoConf() string {
	tlsDir := filepath.Join(s.template, pki.Dir)
	conf := fmt.Sprintf("cafile %s\ncertfile %s\nkeyfile %s\nuse_username_as_clientid true\npassword_file %s\nacl_file %s\n"+
		"persistence false\nset_tcp_nodelay true\nmax_queued_messages %d\n",
		filepath.Join(tlsDir, pki.CACert), filepath.Join(tlsDir, pki.ServerCert), filepath.Join(tlsDir, pki.ServerKey),
		filepath.Join(s.access, brokerconf.PasswordFileName), filepath.Join(s.access, brokerconf.ACLFileName),
		max(10_000, 2*len(s.kiosks)*fleetMaxInFlight))
	if os.Geteuid() == 0 {
		conf += "user root\n"
	}
	return conf
}

// hubProcess is `hub serve` running as its own process, so that its CPU
// and memory are its own.
type hubProcess struct {
	cmd     *exec.Cmd
	metrics string // http://ADDR/metrics
	pprof   string // ADDR of net/http/pprof ("": none)
	done    chan struct{}
}

// startHub copies the template data folder to dir/name and runs `hub
// serve` on it against the broker at url, with extra flags (the "before"
// run's, a replica's) and environment (the profiling address), logging
// to dir/name.log.
func (s *fleetSetup) startHub(ctx context.Context, dir, name, url string, env []string, extra ...string) (*hubProcess, error) {
	data := filepath.Join(dir, name)
	if err := copyDir(data, s.template); err != nil {
		return nil, fmt.Errorf("copy the hub's data folder: %w", err)
	}
	metricsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := append([]string{"--data", data, "serve", "--broker", url,
		"--broker-ca", filepath.Join(data, pki.Dir, pki.CACert), "--mqtt-listen", "off", "--mqtts-listen", "off",
		"--enroll-listen", "off", "--http-listen", httpAddr, "--metrics-listen", metricsAddr, "--log-format", "json"}, extra...)
	cmd := exec.Command(s.hubBin, args...)
	cmd.Env = append(os.Environ(), env...)
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	h := &hubProcess{cmd: cmd, metrics: "http://" + metricsAddr + "/metrics", done: make(chan struct{}), pprof: pprofAddr(env)}
	go func() { io.Copy(io.Discard, stdout); cmd.Wait(); logf.Close(); close(h.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		log, _ := os.ReadFile(logf.Name())
		if strings.Count(string(log), `"msg":"subscribed"`) >= 2 {
			return h, nil
		}
		select {
		case <-h.done:
			log, _ = os.ReadFile(logf.Name()) // all it wrote before it exited
			return nil, fmt.Errorf("hub serve exited: %s", log)
		case <-ctx.Done():
			h.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			h.stop()
			return nil, fmt.Errorf("hub serve did not subscribe within 60s: %s", log)
		}
	}
}

func (h *hubProcess) stop() {
	h.cmd.Process.Signal(os.Interrupt)
	select {
	case <-h.done:
	case <-time.After(20 * time.Second):
		h.cmd.Process.Kill()
		<-h.done
	}
}

// cpu is the CPU time the hub has used so far (user and system), from
// /proc/PID/stat.
func (h *hubProcess) cpu() (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", h.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command's ")" : state is field 3; utime 14, stime 15.
	rest := string(data[strings.LastIndexByte(string(data), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / ticks, nil
}

// memory is the hub's resident memory now and at its peak, in MB.
func (h *hubProcess) memory() (rss, peak float64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", h.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		switch k {
		case "VmRSS":
			rss = kb / 1024
		case "VmHWM":
			peak = kb / 1024
		}
	}
	return rss, peak
}

// metric reads one counter from the hub's /metrics (0 when absent).
func (h *hubProcess) metric(name string) float64 {
	resp, err := http.Get(h.metrics)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// copyDir copies the files of from into a new folder to, keeping their
// modes (the hub refuses secrets others can read).
func copyDir(to, from string) error {
	return filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(dst, info.Mode().Perm())
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, info.Mode().Perm())
	})
}
