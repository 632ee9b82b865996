package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// fleetOptions are the fleet benchmark's sizes (issue 15, item 6).
type fleetOptions struct {
	kiosks  int
	backlog int           // entries each kiosk holds after the outage
	scene   string        // rush, outage or both
	rushFor time.Duration // how long rush hour is measured
	every   time.Duration // a gate's mean gap between entries at its peak
	spread  time.Duration // outage: the kiosks reconnect within this long
	limit   time.Duration // outage: a run stops after this long, unfinished
}

// fleetVariant is one way of running the hub: as it is, or as it was
// before group commit and back-pressure (each batch its own transaction,
// a full queue dropping batches).
type fleetVariant struct {
	name  string
	flags []string
}

var fleetVariants = []fleetVariant{
	{"before", []string{"--ingest-group", "1", "--ingest-hold", "-1ns"}},
	{"after", nil},
}

// fleetRun is what one run of a scene measured.
type fleetRun struct {
	scene         string
	variant       string
	took          time.Duration // outage: until every backlog was acked
	entries       int
	cpuShare      float64 // of one core, over the measured time
	rssMB, peakMB float64
	p50, p99      time.Duration // rush: kiosk commit to hub ack
	peakRate      float64       // outage: entries acked in the best second
	alertMax      time.Duration
	alerts        int
	dropped       float64 // batches the hub dropped (its queue full)
	held          float64 // batches the hub held back (back-pressure)
	resends       int     // kiosks' ack timeouts
	unfinished    bool    // outage: stopped at the limit with backlogs left
}

// benchFleet runs the scenes, each hub variant in turn, prints them and
// returns them.
func benchFleet(ctx context.Context, dir string, o fleetOptions, out io.Writer) ([]fleetRun, error) {
	if o.kiosks <= 0 || o.backlog <= 0 {
		return nil, fmt.Errorf("-kiosks and -backlog must be at least 1, got %d and %d", o.kiosks, o.backlog)
	}
	scenes := map[string][]string{"rush": {"rush"}, "outage": {"outage"}, "both": {"rush", "outage"}}[o.scene]
	if scenes == nil {
		return nil, fmt.Errorf("-scene %q: want rush, outage or both", o.scene)
	}
	fmt.Fprintf(out, "fleet   enrolling %d kiosks, building the hub...\n", o.kiosks)
	setup, err := enrollFleet(ctx, filepath.Join(dir, "fleet"), o.kiosks)
	if err != nil {
		return nil, fmt.Errorf("fleet setup: %w", err)
	}
	var all []fleetRun
	for _, scene := range scenes {
		var runs []fleetRun
		for i, v := range fleetVariants {
			runDir := filepath.Join(dir, "fleet", fmt.Sprintf("%s-%d-%s", scene, i, v.name))
			r, err := setup.run(ctx, runDir, scene, v, o)
			if err != nil {
				return nil, fmt.Errorf("fleet %s (%s): %w", scene, v.name, err)
			}
			r.print(out, scene, o)
			runs = append(runs, r)
			// Keep the hub's log beside the data (-dir) for a look at what it did.
			os.Rename(filepath.Join(runDir, "hub.log"), runDir+"-hub.log")
			os.RemoveAll(runDir)
		}
		printFleetRatio(out, scene, runs[0], runs[1])
		all = append(all, runs...)
	}
	return all, nil
}

// run is one scene against one hub variant, each on a fresh broker, hub
// data folder and kiosk journals.
func (s *fleetSetup) run(ctx context.Context, dir, scene string, v fleetVariant, o fleetOptions) (fleetRun, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fleetRun{}, err
	}
	addr, err := freeAddr()
	if err != nil {
		return fleetRun{}, err
	}
	mq, err := startMosquitto(ctx, dir, "fleet", addr, s.mosquittoConf())
	if err != nil {
		return fleetRun{}, err
	}
	defer mq.stop()
	url := "tls://" + addr
	hub, err := s.startHub(ctx, dir, url, v.flags...)
	if err != nil {
		return fleetRun{}, err
	}
	defer hub.stop()
	kiosks := make([]*fleetKiosk, len(s.kiosks))
	for i, k := range s.kiosks {
		kiosks[i] = newFleetKiosk(k.site, k.name, k.user, k.secret, k.key)
	}
	r := fleetRun{scene: scene, variant: v.name}
	if scene == "rush" {
		err = s.rush(ctx, url, hub, kiosks, o, &r)
	} else {
		err = s.outage(ctx, url, hub, kiosks, o, &r)
	}
	r.dropped = hub.metric("gatepost_hub_inbox_dropped_total")
	r.held = hub.metric("gatepost_hub_inbox_held_total")
	for _, k := range kiosks {
		if k.client != nil {
			k.client.Disconnect(100)
		}
		r.resends += k.resends
		r.alerts += len(k.alertLag)
		for _, d := range k.alertLag {
			r.alertMax = max(r.alertMax, d)
		}
	}
	return r, err
}

// rush: every kiosk online, committing entries at a gate's morning peak
// and sending each at once; measured over o.rushFor after a warm-up.
func (s *fleetSetup) rush(ctx context.Context, url string, hub *hubProcess, kiosks []*fleetKiosk, o fleetOptions, r *fleetRun) error {
	if err := connectAll(kiosks, url, s); err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, k := range kiosks {
		wg.Go(func() { k.run(runCtx, o.every) })
	}
	defer func() { stop(); wg.Wait() }()
	if err := sleep(ctx, min(5*time.Second, o.rushFor/4)); err != nil { // warm-up: first entries, retained acks
		return err
	}
	for _, k := range kiosks {
		k.mu.Lock()
		k.latency, k.alertLag = nil, nil
		k.mu.Unlock()
	}
	cpu0, _ := hub.cpu()
	start := time.Now()
	if err := sleep(ctx, o.rushFor); err != nil {
		return err
	}
	cpu1, _ := hub.cpu()
	wall := time.Since(start)
	r.took, r.cpuShare = wall, float64(cpu1-cpu0)/float64(wall)
	r.rssMB, r.peakMB = hub.memory()
	var all []time.Duration
	for _, k := range kiosks {
		k.mu.Lock()
		all = append(all, k.latency...)
		k.mu.Unlock()
	}
	r.entries = len(all)
	r.p50, r.p99 = quantile(all, 0.50), quantile(all, 0.99)
	return nil
}

// outage: every kiosk holds o.backlog entries and reconnects at a random
// moment within the same o.spread (10 s), then drains as its uplink does while its
// gate goes on (entries and alerts at the peak rate).
func (s *fleetSetup) outage(ctx context.Context, url string, hub *hubProcess, kiosks []*fleetKiosk, o fleetOptions, r *fleetRun) error {
	for _, k := range kiosks {
		for range o.backlog {
			k.appendEntry(false)
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	cpu0, _ := hub.cpu()
	start := time.Now()
	errs := make(chan error, len(kiosks))
	for _, k := range kiosks {
		wg.Go(func() {
			if sleep(runCtx, time.Duration(rand.Int64N(int64(max(o.spread, time.Millisecond))))) != nil {
				return
			}
			if err := k.connect(url, s.kioskTLS); err != nil {
				errs <- err
				return
			}
			k.run(runCtx, o.every)
		})
	}
	want, last, lastAt := uint64(len(kiosks)*o.backlog), uint64(0), start
	for {
		select {
		case err := <-errs:
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
		var held uint64
		for _, k := range kiosks {
			k.mu.Lock()
			held += min(k.acked, uint64(o.backlog))
			k.mu.Unlock()
		}
		now := time.Now()
		r.peakRate = max(r.peakRate, float64(held-last)/now.Sub(lastAt).Seconds())
		last, lastAt = held, now
		if held >= want {
			break
		}
		if now.Sub(start) > o.limit {
			want, r.unfinished = held, true // the figures are then for what was acked within the limit
			break
		}
	}
	cpu1, _ := hub.cpu()
	r.took, r.entries = time.Since(start), int(want)
	r.cpuShare = float64(cpu1-cpu0) / float64(r.took)
	r.rssMB, r.peakMB = hub.memory()
	return nil
}

// connectAll connects every kiosk, 32 at a time.
func connectAll(kiosks []*fleetKiosk, url string, s *fleetSetup) error {
	sem := make(chan struct{}, 32)
	errs := make(chan error, len(kiosks))
	var wg sync.WaitGroup
	for _, k := range kiosks {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := k.connect(url, s.kioskTLS); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// quantile is the q-quantile of ds (0 for none).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func (r fleetRun) print(out io.Writer, scene string, o fleetOptions) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	switch scene {
	case "rush":
		fmt.Fprintf(out, "fleet   rush   %-6s %d kiosks, %d entries in %.0f s (%.0f/s): commit→ack p50 %s p99 %s (goal ≤ 1 s); hub CPU %.1f%% of a core (goal ≤ 10%%), RSS %.0f MB (peak %.0f); alerts %d, longest wait %s; dropped %.0f, held %.0f, kiosk resends %d\n",
			r.variant, o.kiosks, r.entries, r.took.Seconds(), float64(r.entries)/r.took.Seconds(), ms(r.p50), ms(r.p99),
			100*r.cpuShare, r.rssMB, r.peakMB, r.alerts, ms(r.alertMax), r.dropped, r.held, r.resends)
	default:
		if r.unfinished {
			fmt.Fprintf(out, "fleet   outage %-6s UNFINISHED: stopped at the %s limit with %d of %d entries acked\n",
				r.variant, o.limit, r.entries, o.kiosks*o.backlog)
		}
		fmt.Fprintf(out, "fleet   outage %-6s %d kiosks × %d: backlog acked in %.1f s (%.0f entries/s; goal ≥ 20,000), peak %.0f/s; hub CPU %.0f%% of a core, RSS %.0f MB (peak %.0f); alerts %d, longest wait %s (goal ≤ 2 s); batches dropped %.0f (must be 0 after), held %.0f, kiosk resends %d\n",
			r.variant, o.kiosks, o.backlog, r.took.Seconds(), float64(r.entries)/r.took.Seconds(), r.peakRate,
			100*r.cpuShare, r.rssMB, r.peakMB, r.alerts, ms(r.alertMax), r.dropped, r.held, r.resends)
	}
}

func printFleetRatio(out io.Writer, scene string, before, after fleetRun) {
	switch scene {
	case "rush":
		fmt.Fprintf(out, "fleet   rush   after/before: hub CPU %.2fx less, p99 %.2fx\n",
			before.cpuShare/after.cpuShare, float64(after.p99)/float64(max(before.p99, 1)))
	default:
		fmt.Fprintf(out, "fleet   outage after/before: %.2fx faster (%.1f s vs %.1f s), dropped %.0f vs %.0f, resends %d vs %d\n",
			before.took.Seconds()/after.took.Seconds(), after.took.Seconds(), before.took.Seconds(),
			after.dropped, before.dropped, after.resends, before.resends)
	}
}
