// Command bench measures gatepost's sync path against the baselines an
// integrator would compare it with, on this machine, in one run:
//
//	go run ./bench                 # everything, 100,000 entries
//	go run ./bench -only drain -n 20000
//	go run ./bench -only fleet -kiosks 500 -backlog 1500 -scene both -engines sqlite,postgres -replicas 1,3
//
// Each figure is printed with its baseline and the ratio. docs/benchmarks.md
// records a run. It needs mosquitto on PATH (or in /usr/sbin) for -only
// drain.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// options are the benchmarks' sizes and knobs.
type options struct {
	n         int // entries for drain and ingest
	appends   int // appends for the latency benchmark
	burst     int // appends per rush
	lull      time.Duration
	gzipAbove int
	rounds    int // drain rounds (ours and each bridge in turns)
	only      string
	dir       string
	verifyN   int // entries hub verify walks in the chaincost benchmark
	fleet     fleetOptions
}

func main() {
	n := flag.Int("n", 100_000, "entries for the drain and ingest benchmarks")
	appends := flag.Int("appends", 2000, "appends for the latency benchmark")
	burst := flag.Int("burst", 100, "appends in one rush at the gate, for the latency benchmark")
	lull := flag.Duration("lull", 700*time.Millisecond, "quiet time between rushes (longer than the journal's idle checkpoint delay, 500ms)")
	rounds := flag.Int("rounds", 3, "drain rounds: ours and the bridges run in turns and the medians are compared")
	only := flag.String("only", "", "run one benchmark: drain, ingest, append, chaincost (what the entry chain and signatures cost, issue 14; chain-ingest, chain-append or chain-drain: one part of it), or fleet (500 kiosks against `hub serve`, minutes: only when asked for); drain-ours, drain-ours-plain: our side of the drain alone, over TLS with logins or plain, for profiling")
	gzipAbove := flag.Int("gzip-above", 0, "the kiosk's mqtt.gzip_above for the drain (0: no compression, as on loopback it only costs CPU)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	verifyN := flag.Int("verify-n", 1_000_000, "entries `hub verify` walks in -only chaincost")
	kiosks := flag.Int("kiosks", 500, "fleet: kiosks, each its own MQTT connection and login")
	backlog := flag.Int("backlog", 1500, "fleet: entries each kiosk holds after the outage")
	scene := flag.String("scene", "both", "fleet: rush, outage or both")
	rushFor := flag.Duration("rush-for", 60*time.Second, "fleet: how long rush hour is measured")
	spread := flag.Duration("reconnect-within", 10*time.Second, "fleet: after the outage, every kiosk reconnects within this long")
	limit := flag.Duration("outage-limit", 5*time.Minute, "fleet: stop an outage run after this long and report what was acked by then")
	engines := flag.String("engines", "sqlite,postgres", "fleet: the engines to run each scene on (sqlite: one hub; postgres: see -replicas)")
	replicas := flag.String("replicas", "1,3", "fleet: on PostgreSQL, run each scene with this many hubs (1: one hub alone; more: hub serve --replicas, a shared subscription)")
	before := flag.Bool("before", false, "fleet: also run SQLite's hub as before group commit and back-pressure (--ingest-group 1 --ingest-hold -1ns)")
	database := flag.String("database", "", "fleet: a PostgreSQL server's URL (postgres://user@host/db) on which the benchmark may create and drop databases (default: a throwaway cluster made with .ci/postgres in the benchmark's folder and stopped at the end)")
	profileRush := flag.Bool("profile-rush", false, "fleet: also a CPU profile of the (first) hub over rush hour's measured time, for -profile-for at most")
	profileFor := flag.Duration("profile-for", 20*time.Second, "fleet: a CPU profile of the (first) hub for this long from the outage's start (0: none)")
	fixedAck := flag.Bool("fixed-ack-wait", false, "fleet: also run SQLite's hub with kiosks that send their window again after every 10 s without ack progress, as before the uplink's adaptive ack wait")
	batchWaits := flag.String("batch-wait", "", "fleet: also run SQLite's hub with kiosks that hold a partial batch until its first entry is this old, as the kiosk's mqtt.batch_wait (alerts still go at once), one run for each of a comma-separated list (\"5s,10s\"), in turns with the others")
	sqliteFlags := flag.String("sqlite-flags", "", "fleet: also run SQLite's hub with these flags of hub serve, in turns with the others (\"--ingest-group-wait 200ms\", \"--ingest-group-entries 4096\")")
	pgFlags := flag.String("postgres-flags", "", "fleet: also run PostgreSQL's hubs with these flags of hub serve, for each of -replicas, in turns with the others (\"--ingest-group-entries 512\")")
	dir := flag.String("dir", "", "folder for the data (default: a temporary folder; use the kiosk's disk to measure it)")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	reps, err := parseList(*replicas, "1,3", strconv.Atoi)
	if err == nil && len(reps) == 0 {
		err = fmt.Errorf("%q names no count of hubs: want a list like 1,3", *replicas)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: -replicas:", err)
		os.Exit(2)
	}
	waits, err := parseList(*batchWaits, "5s,10s", time.ParseDuration)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: -batch-wait:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	o := options{n: *n, appends: *appends, burst: *burst, lull: *lull, gzipAbove: *gzipAbove, rounds: *rounds, only: *only, dir: *dir, verifyN: *verifyN,
		fleet: fleetOptions{kiosks: *kiosks, backlog: *backlog, scene: *scene, rushFor: *rushFor, every: time.Minute / 25,
			spread: *spread, limit: *limit, engines: strings.Split(*engines, ","), replicas: reps, before: *before,
			database: *database, profileFor: *profileFor, profileRush: *profileRush, fixedAck: *fixedAck, batchWaits: waits, sqliteFlags: strings.Fields(*sqliteFlags),
			pgFlags: strings.Fields(*pgFlags)}}
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		stop()
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// parseList reads a comma-separated list ("1,3", "5s,10s") with parse;
// "" is none. like is an example for the error.
func parseList[T any](list, like string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	for f := range strings.SplitSeq(list, ",") {
		v, err := parse(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("%q is not a list like %s", list, like)
		}
		out = append(out, v)
	}
	return out, nil
}

func run(ctx context.Context, o options, out *os.File) error {
	n, gzipAbove, only, dir := o.n, o.gzipAbove, o.only, o.dir
	if o.rounds <= 0 {
		return fmt.Errorf("-rounds must be at least 1, got %d", o.rounds)
	}
	if o.burst <= 0 {
		return fmt.Errorf("-burst must be at least 1, got %d", o.burst)
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "gatepost-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	log := slog.New(slog.DiscardHandler)
	if only == "" || only == "append" {
		r, err := benchAppend(ctx, dir, o.appends, o.burst, o.lull)
		if err != nil {
			return fmt.Errorf("append: %w", err)
		}
		r.print(out)
	}
	if only == "" || only == "ingest" {
		r, err := benchIngest(ctx, dir, n)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		r.print(out)
	}
	if only == "chaincost" || only == "chain-ingest" || only == "chain-append" || only == "chain-drain" { // issue 14's cost budget; not part of a run of everything
		rs, err := benchChainCost(ctx, dir, o, log)
		if err != nil {
			return fmt.Errorf("chaincost: %w", err)
		}
		for _, r := range rs {
			r.print(out)
		}
	}
	if only == "drain-ours" || only == "drain-ours-plain" { // for profiling our side alone
		l := link{secure: only == "drain-ours"}
		d, err := drainOurs(ctx, dir, n, gzipAbove, l.secure, log)
		if err != nil {
			return fmt.Errorf("drain: %w", err)
		}
		fmt.Fprintf(out, "drain   ours (%s) %.0f entries/s (%d in %.2f s), no baseline run\n", l.name(), float64(n)/d.Seconds(), n, d.Seconds())
	}
	if only == "fleet" {
		if _, err := benchFleet(ctx, dir, o.fleet, out); err != nil {
			return fmt.Errorf("fleet: %w", err)
		}
	}
	if only == "" || only == "drain" {
		rs, err := benchDrain(ctx, dir, n, gzipAbove, o.rounds, log)
		if err != nil {
			return fmt.Errorf("drain: %w", err)
		}
		for _, r := range rs {
			r.print(out)
		}
	}
	return nil
}
