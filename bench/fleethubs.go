package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// fleetHubs is the hub of one run: one `hub serve`, or several replicas
// sharing a PostgreSQL database, measured together.
type fleetHubs struct {
	list     []*hubProcess
	pg       *fleetPostgres // nil on SQLite
	database string         // the run's PostgreSQL database URL
}

// startHubs starts the variant's hubs against the broker at url: on
// SQLite one hub on its data folder; on PostgreSQL each hub on a copy of
// the data folder (its keys, TLS and broker login, which replicas share)
// and the run's fresh database, with --replicas when there are several.
// The first hub serves net/http/pprof on a loopback port for the
// outage's profile.
func (s *fleetSetup) startHubs(ctx context.Context, dir, url, scene string, v fleetVariant) (*fleetHubs, error) {
	hubs := &fleetHubs{}
	var common []string
	if v.engine == "postgres" {
		db, err := s.pg.database(ctx, fmt.Sprintf("%s_%s", scene, strings.ReplaceAll(v.name, "-", "_")))
		if err != nil {
			return nil, err
		}
		hubs.pg, hubs.database = s.pg, db
		common = []string{"--database", db}
	}
	for i := range v.replicas {
		args := append(append([]string{}, common...), v.flags...)
		if v.replicas > 1 {
			args = append(args, "--replicas", "--replica-id", replicaID(i))
		}
		var env []string
		if i == 0 {
			addr, err := freeAddr()
			if err != nil {
				hubs.stop()
				return nil, err
			}
			env = []string{pprofEnv + "=" + addr}
		}
		h, err := s.startHub(ctx, dir, fmt.Sprintf("hub-%d", i+1), url, env, args...)
		if err != nil {
			hubs.stop()
			return nil, err
		}
		hubs.list = append(hubs.list, h)
	}
	return hubs, nil
}

func (hs *fleetHubs) stop() {
	for _, h := range hs.list {
		h.stop()
	}
}

// cpuMark is where the CPU clocks stood when a measurement began.
type cpuMark struct {
	at      time.Time
	hub, pg time.Duration
	pgKnown bool
}

func (hs *fleetHubs) mark() cpuMark {
	m := cpuMark{at: time.Now()}
	for _, h := range hs.list {
		c, _ := h.cpu()
		m.hub += c
	}
	if hs.pg != nil {
		m.pg, m.pgKnown = hs.pg.cpu()
	}
	return m
}

// measure fills r's CPU shares (since from) and memory, and returns the
// time since from.
func (hs *fleetHubs) measure(from cpuMark, r *fleetRun) time.Duration {
	now := hs.mark()
	wall := now.at.Sub(from.at)
	r.cpuShare = float64(now.hub-from.hub) / float64(wall)
	r.pgShare = -1
	if now.pgKnown && from.pgKnown {
		r.pgShare = float64(now.pg-from.pg) / float64(wall)
		r.pgMB, _ = hs.pg.memory()
	}
	r.rssMB, r.peakMB = 0, 0
	for _, h := range hs.list {
		rss, peak := h.memory()
		r.rssMB += rss
		r.peakMB += peak
	}
	return wall
}

// metric sums one counter over the hubs.
func (hs *fleetHubs) metric(name string) float64 {
	var sum float64
	for _, h := range hs.list {
		sum += h.metric(name)
	}
	return sum
}

// pprofEnv names the loopback address on which a hub built by
// buildProfiledHub serves net/http/pprof.
const pprofEnv = "GATEPOST_BENCH_PPROF"

func pprofAddr(env []string) string {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, pprofEnv+"="); ok {
			return v
		}
	}
	return ""
}

// profiledHubFile is added to the hub's main package for the benchmark's
// build only (go build -overlay): the hub itself serves no profiles.
const profiledHubFile = `package main

import (
	"net/http"
	"net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("` + pprofEnv + `")
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.Handle("/debug/pprof/allocs", pprof.Handler("allocs"))
	go http.ListenAndServe(addr, mux)
}
`

// buildProfiledHub builds the hub from this tree, with profiledHubFile.
func buildProfiledHub(ctx context.Context, dir, bin string) error {
	src, err := exec.CommandContext(ctx, "go", "list", "-f", "{{.Dir}}", "github.com/gatepost/gatepost/hub").Output()
	if err != nil {
		return fmt.Errorf("find the hub's sources: %w", exitDetail(err))
	}
	extra := filepath.Join(dir, "benchpprof.go")
	if err := os.WriteFile(extra, []byte(profiledHubFile), 0o644); err != nil {
		return err
	}
	overlay, _ := json.Marshal(map[string]map[string]string{
		"Replace": {filepath.Join(strings.TrimSpace(string(src)), "zz_benchpprof.go"): extra}})
	overlayFile := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		return err
	}
	build := exec.CommandContext(ctx, "go", "build", "-overlay", overlayFile, "-o", bin, "github.com/gatepost/gatepost/hub")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build the hub: %v: %s", err, out)
	}
	return nil
}

// fleetProfile is a CPU profile of one hub being taken.
type fleetProfile struct {
	path string
	done chan error
}

// profile starts taking a CPU profile of h for d, into path.
func (h *hubProcess) profile(ctx context.Context, path string, d time.Duration) *fleetProfile {
	p := &fleetProfile{path: path, done: make(chan error, 1)}
	go func() {
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", h.pprof, max(1, int(d.Seconds())))
		req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		if err != nil {
			p.done <- err
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			p.done <- err
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			p.done <- fmt.Errorf("profile: %s", resp.Status)
			return
		}
		f, err := os.Create(path)
		if err != nil {
			p.done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		f.Close()
		p.done <- err
	}()
	return p
}

// report waits for the profile and prints its top functions.
func (p *fleetProfile) report(ctx context.Context, out io.Writer, scene, variant, bin string) {
	if err := <-p.done; err != nil {
		fmt.Fprintf(out, "fleet   %-6s %-13s no CPU profile: %v\n", scene, variant, err)
		return
	}
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=30", bin, p.path).Output()
	if err != nil {
		fmt.Fprintf(out, "fleet   %-6s %-13s no CPU profile: go tool pprof: %v\n", scene, variant, exitDetail(err))
		return
	}
	fmt.Fprintf(out, "fleet   %-6s %-13s CPU profile of hub-1 by cumulative time (%s; kept with -dir):\n", scene, variant, p.path)
	for line := range strings.Lines(string(top)) {
		fmt.Fprintf(out, "        %s", line)
	}
}

// printSlowest prints the statements of the run's database that took the
// most time at the server, from pg_stat_statements.
func printSlowest(ctx context.Context, out io.Writer, variant string, pg *fleetPostgres, db string) {
	st, err := pg.slowest(ctx, db, 10)
	if err != nil {
		fmt.Fprintf(out, "fleet   outage %-13s no statement figures: %v\n", variant, err)
		return
	}
	fmt.Fprintf(out, "fleet   outage %-13s statements by total time at the server (pg_stat_statements, whole run):\n", variant)
	for _, s := range st {
		q := s.query
		if len(q) > 110 {
			q = q[:110] + "…"
		}
		fmt.Fprintf(out, "        %9.0f ms %8d calls %7.3f ms/call %9d rows  %s\n", s.total, s.calls, s.mean, s.rows, q)
	}
}
