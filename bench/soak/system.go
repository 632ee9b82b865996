package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// site is the compound the soak's kiosks guard, marked a test site as
// the demo's is: their devices are simulated.
const site = "soak-1"

// system is the running hub and kiosks.
type system struct {
	bin, hubData string
	hub          *proc
	hubMetrics   string // URL of the hub's /metrics (--metrics-listen)
	kiosks       []*kiosk
}

// kiosk is one kiosk process and where to look at it.
type kiosk struct {
	*proc
	cfgPath, dataDir, metrics string
}

// startSystem builds the programs into dir/bin and starts the hub and n
// kiosks scanning every scanEvery on average, each kiosk enrolled with a
// sealed file (`hub kiosks add`, `kiosk enroll --file`) as an installer
// without a link does.
func startSystem(ctx context.Context, dir string, n int, scanEvery time.Duration) (sys *system, err error) {
	sys = &system{bin: filepath.Join(dir, "bin"), hubData: filepath.Join(dir, "hub")}
	defer func() {
		if err != nil {
			sys.stop()
		}
	}()
	for _, prog := range []string{"hub", "kiosk"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(sys.bin, prog), "github.com/gatepost/gatepost/"+prog)
		if out, err := cmd.CombinedOutput(); err != nil {
			return sys, fmt.Errorf("build %s (run the soak from the module's folder): %v\n%s", prog, err, out)
		}
	}
	ports, err := freePorts(4 + n)
	if err != nil {
		return sys, err
	}
	mqtts := "127.0.0.1:" + ports[1]
	for _, args := range [][]string{
		{"tls", "init", "--data", sys.hubData, "--name", "127.0.0.1"},
		{"kiosks", "test-site", "--data", sys.hubData, "--site", site},
	} {
		if err := sys.run(ctx, nil, "hub", args...); err != nil {
			return sys, err
		}
	}
	for i := 1; i <= n; i++ {
		k, err := sys.setUpKiosk(ctx, dir, fmt.Sprintf("gate-%d", i), "tls://"+mqtts, "127.0.0.1:"+ports[3+i], scanEvery)
		if err != nil {
			return sys, err
		}
		sys.kiosks = append(sys.kiosks, k)
	}
	sys.hubMetrics = "http://127.0.0.1:" + ports[3] + "/metrics"
	sys.hub, err = startProc(ctx, filepath.Join(dir, "hub.log"), "hub ready", filepath.Join(sys.bin, "hub"), "serve", "--data", sys.hubData,
		"--mqtt-listen", "127.0.0.1:"+ports[0], "--mqtts-listen", mqtts, "--enroll-listen", "off",
		"--http-listen", "127.0.0.1:"+ports[2], "--metrics-listen", "127.0.0.1:"+ports[3])
	if err != nil {
		return sys, err
	}
	for _, k := range sys.kiosks {
		if k.proc, err = startProc(ctx, filepath.Join(dir, filepath.Base(k.dataDir)+".log"), "kiosk ready",
			filepath.Join(sys.bin, "kiosk"), "run", "--config", k.cfgPath); err != nil {
			return sys, err
		}
	}
	return sys, nil
}

// setUpKiosk writes a kiosk's configuration with `kiosk init --demo` and
// the soak's settings, and enrolls it at the hub.
func (sys *system) setUpKiosk(ctx context.Context, dir, name, broker, screen string, scanEvery time.Duration) (*kiosk, error) {
	k := &kiosk{cfgPath: filepath.Join(dir, name+".toml"), dataDir: filepath.Join(dir, name), metrics: "http://" + screen + "/metrics"}
	if err := sys.run(ctx, nil, "kiosk", "init", "--demo", "--config", k.cfgPath); err != nil {
		return nil, err
	}
	cfg, err := os.ReadFile(k.cfgPath)
	if err != nil {
		return nil, err
	}
	set := map[string]string{
		"kiosk": name, "site": site, "data_dir": k.dataDir, "broker": broker, "listen": screen,
		"simulate_every": scanEvery.String(),
		"recheck_after":  "10s", // as the demo: a fever's second reading after a short rest
	}
	for key, value := range set {
		re := regexp.MustCompile(`(?m)^` + key + ` = .*$`)
		if !re.Match(cfg) {
			return nil, fmt.Errorf("kiosk init --demo wrote no %q line for the soak to set", key)
		}
		cfg = re.ReplaceAll(cfg, []byte(fmt.Sprintf("%s = %q", key, value)))
	}
	if err := os.WriteFile(k.cfgPath, cfg, 0o600); err != nil {
		return nil, err
	}
	var id struct {
		PublicKey string `json:"public_key"`
	}
	if err := sys.run(ctx, &id, "kiosk", "identity", "--json", "--config", k.cfgPath); err != nil {
		return nil, err
	}
	file := filepath.Join(dir, name+".enroll")
	if err := sys.run(ctx, nil, "hub", "kiosks", "add", "--data", sys.hubData, "--site", site, "--kiosk", name,
		"--public-key", id.PublicKey, "--broker", broker, "--out", file); err != nil {
		return nil, err
	}
	return k, sys.run(ctx, nil, "kiosk", "enroll", "--config", k.cfgPath, "--file", file)
}

// run runs one of the built programs to its end; v, when not nil, takes
// its output as JSON.
func (sys *system) run(ctx context.Context, v any, prog string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(sys.bin, prog), args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, stderr.String())
	}
	if v != nil {
		if err := json.Unmarshal(out, v); err != nil {
			return fmt.Errorf("%s %s printed %q: %w", prog, strings.Join(args, " "), out, err)
		}
	}
	return nil
}

// exited says which process has ended, if any: a soak whose daemon died
// has failed.
func (sys *system) exited() error {
	procs := []*proc{sys.hub}
	for _, k := range sys.kiosks {
		procs = append(procs, k.proc)
	}
	for _, p := range procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited during the soak (%v); its log is %s (-keep keeps it)", p.name, p.err, p.log)
		default:
		}
	}
	return nil
}

// stop stops the kiosks, then the hub.
func (sys *system) stop() {
	for _, k := range sys.kiosks {
		if k.proc != nil {
			k.proc.stop()
		}
	}
	if sys.hub != nil {
		sys.hub.stop()
	}
}

// proc is a daemon the soak started, its output in a log file.
type proc struct {
	name, log string
	cmd       *exec.Cmd
	done      chan struct{}
	err       error // its exit, once done is closed
}

// startProc starts a program and waits for the line starting with ready
// on its standard output.
func startProc(ctx context.Context, logPath, ready, path string, args ...string) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	p := &proc{name: filepath.Base(path) + " " + strings.Join(args, " "), log: logPath, cmd: cmd, done: make(chan struct{})}
	readyc := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		seen := false
		for sc.Scan() { // to the end, so that the program never blocks writing
			if !seen && strings.HasPrefix(sc.Text(), ready) {
				seen = true
				close(readyc)
			}
		}
	}()
	go func() { p.err = cmd.Wait(); logf.Close(); close(p.done) }()
	select {
	case <-readyc:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited before it was ready (%v); see %s", p.name, p.err, logPath)
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, fmt.Errorf("%s not ready after 30s; see %s", p.name, logPath)
	}
}

// stop asks the process to stop (SIGTERM) and kills it after 10s.
func (p *proc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// freePorts finds n free loopback ports, held together so that none is
// handed out twice.
func freePorts(n int) ([]string, error) {
	var ports []string
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, errors.Join(errors.New("find a free port"), err)
		}
		lns = append(lns, ln)
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		ports = append(ports, port)
	}
	return ports, nil
}
