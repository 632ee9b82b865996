// Command soak runs the demo's system as real processes for a long time
// and watches for leaks: the hub (`hub serve`, embedded broker over TLS)
// and each kiosk (`kiosk run`, simulated devices, enrolled as an
// installer enrolls one) are built from this module and started as
// programs of their own, the kiosks scanning at -rate times the demo's
// pace. Every -every it samples each process's resident memory
// (/proc/PID/status), Go heap and goroutines (its /metrics), open files
// (/proc/PID/fd) and its store's size, prints a row for each, and at the
// end a verdict against issue 16's goal: kiosk memory at most 30 MB and
// flat, no growth in goroutines or open files. It exits 1 when a goal is
// missed.
//
//	go run ./bench/soak                          # 30 minutes, 10x the demo's rate
//	go run ./bench/soak -duration 3m -every 20s  # a quick look
//
// It is not part of CI: `go test` runs only the quick tests of its
// arithmetic. docs/benchmarks.md ("Soak") records a run. Nothing imports
// this package.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// demoEvery is the demo's mean gap between simulated scans at each kiosk
// (demo -every, the kiosk's scanner.simulate_every default).
const demoEvery = 3 * time.Second

// options are the soak's knobs.
type options struct {
	duration, every time.Duration
	rate            float64 // times the demo's scan rate
	kiosks          int
	dir             string // "" : a temporary folder, removed after
	keep            bool
	limits          limits
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 30*time.Minute, "how long to run")
	flag.DurationVar(&o.every, "every", time.Minute, "how often to sample each process")
	flag.Float64Var(&o.rate, "rate", 10, "scan rate, in times the demo's (one scan every 3s on average at each kiosk)")
	flag.IntVar(&o.kiosks, "kiosks", 2, "kiosk processes (the demo runs 2)")
	flag.StringVar(&o.dir, "dir", "", "folder for the programs, data and logs (default: a temporary folder, removed after unless -keep)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder (data and the daemons' logs)")
	out := flag.String("out", "", "also write the table and verdict (Markdown) to this file")
	flag.Float64Var(&o.limits.kioskMB, "max-kiosk-mb", 30, "goal: a kiosk's resident memory at most this many MB")
	flag.Float64Var(&o.limits.flatMBPer10m, "flat", 1, "a memory trend below this many MB per 10 minutes (least squares over the second half) is flat")
	flag.Float64Var(&o.limits.goroutines, "goroutine-slack", 5, "goroutines the last samples may exceed the first by (rechecks and scrapes in flight) before it is growth")
	flag.Float64Var(&o.limits.fds, "fd-slack", 3, "open files the last samples may exceed the first by before it is growth")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var w io.Writer = os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			os.Exit(2)
		}
		defer f.Close()
		w = io.MultiWriter(os.Stdout, f)
	}
	ok, err := run(ctx, o, w)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	if !ok {
		stop()
		os.Exit(1)
	}
}

func (o options) validate() error {
	switch {
	case o.duration < o.every:
		return fmt.Errorf("-duration %s is shorter than -every %s: there would be nothing to compare", o.duration, o.every)
	case o.every < time.Second:
		return fmt.Errorf("-every %s: sample at most once a second", o.every)
	case o.rate <= 0 || o.rate > 300:
		return fmt.Errorf("-rate %g: must be above 0 and at most 300 (a scan every 10ms, the kiosk's floor)", o.rate)
	case o.kiosks < 1 || o.kiosks > 20:
		return fmt.Errorf("-kiosks %d: must be 1 to 20", o.kiosks)
	}
	return nil
}

// run sets the system up, samples it until the time is up or ctx is
// done, and prints the verdict. ok is false when a goal was missed.
func run(ctx context.Context, o options, w io.Writer) (ok bool, err error) {
	if err := o.validate(); err != nil {
		return false, err
	}
	dir := o.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "gatepost-soak-"); err != nil {
			return false, err
		}
		if !o.keep {
			defer os.RemoveAll(dir)
		}
	}
	scanEvery := time.Duration(float64(demoEvery) / o.rate)
	sys, err := startSystem(ctx, dir, o.kiosks, scanEvery)
	if err != nil {
		return false, err
	}
	defer sys.stop()
	start := time.Now()
	fmt.Fprintf(w, "soak %s: %d kiosks and a hub as processes, a scan every %s on average at each kiosk (%gx the demo), sampled every %s; load %s; data in %s\n\n",
		start.UTC().Format(time.RFC3339), o.kiosks, scanEvery, o.rate, o.every, loadAvg(), dir)
	printHeader(w)
	var samples []sample
	tick := time.NewTicker(o.every)
	defer tick.Stop()
	for n := int(o.duration / o.every); n > 0; n-- {
		select {
		case <-ctx.Done():
			n = 0
			continue
		case <-tick.C:
		}
		if err := sys.exited(); err != nil {
			fmt.Fprintf(w, "\n%v\n", err)
			return false, nil
		}
		s := sys.sample(ctx, time.Since(start))
		samples = append(samples, s...)
		printRows(w, s)
	}
	fmt.Fprintf(w, "\nended %s after %s; load %s\n\n", time.Now().UTC().Format(time.RFC3339), time.Since(start).Round(time.Second), loadAvg())
	return judge(w, samples, o.limits), nil
}

// loadAvg is the machine's load averages over 1, 5 and 15 minutes.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	var a, b, c string
	fmt.Sscan(string(data), &a, &b, &c)
	return a + " " + b + " " + c
}
