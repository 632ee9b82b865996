package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// fleetOptions are the fleet benchmark's sizes (issue 15, item 6).
type fleetOptions struct {
	kiosks      int
	backlog     int             // entries each kiosk holds after the outage
	scene       string          // rush, outage or both
	rushFor     time.Duration   // how long rush hour is measured
	every       time.Duration   // a gate's mean gap between entries at its peak
	spread      time.Duration   // outage: the kiosks reconnect within this long
	limit       time.Duration   // outage: a run stops after this long, unfinished
	engines     []string        // sqlite, postgres
	replicas    []int           // on PostgreSQL: hubs sharing the database (1: one hub alone, more: --replicas)
	before      bool            // also run SQLite's hub as before group commit and back-pressure
	database    string          // a PostgreSQL server's URL ("": a throwaway cluster)
	profileFor  time.Duration   // outage on PostgreSQL: CPU profile of one replica for this long (0: none)
	profileRush bool            // also a CPU profile of the first hub over rush hour's measured time
	fixedAck    bool            // also SQLite's hub with kiosks that wait a fixed ack timeout
	batchWaits  []time.Duration // also SQLite's hub with kiosks holding a partial batch this long, one variant each
	sqliteFlags []string        // also SQLite's hub with these flags of hub serve
	pgFlags     []string        // also PostgreSQL's hubs with these flags of hub serve
}

// fleetVariant is one way of running the hub: on an engine, as one hub or
// as several replicas, as it is or (before) as it was before group commit
// and back-pressure (each batch its own transaction, a full queue
// dropping batches).
type fleetVariant struct {
	name     string
	engine   string // sqlite or postgres
	replicas int
	flags    []string
	// fixedAckWait: the kiosks send their window again after every
	// fleetAckTimeout without ack progress, as the uplink did before
	// uplink.AckWait.
	fixedAckWait bool
	// batchWait: the kiosks hold a partial batch until its first entry
	// is this old (mqtt.batch_wait); 0: they send each entry at once.
	batchWait time.Duration
}

// fleetVariants lists the hubs the options ask for, SQLite's first: the
// ratios are to it.
func fleetVariants(o fleetOptions) ([]fleetVariant, error) {
	var vs []fleetVariant
	if o.before {
		vs = append(vs, fleetVariant{name: "sqlite-before", engine: "sqlite", replicas: 1,
			flags: []string{"--ingest-group", "1", "--ingest-hold", "-1ns"}})
	}
	for _, e := range o.engines {
		switch e {
		case "sqlite":
			vs = append(vs, fleetVariant{name: "sqlite", engine: e, replicas: 1})
			if len(o.sqliteFlags) > 0 {
				vs = append(vs, fleetVariant{name: "sqlite-flags", engine: e, replicas: 1, flags: o.sqliteFlags})
			}
			if o.fixedAck {
				vs = append(vs, fleetVariant{name: "sqlite-fixed-ack", engine: e, replicas: 1, fixedAckWait: true})
			}
			for _, w := range o.batchWaits {
				if w <= 0 || w > time.Minute {
					return nil, fmt.Errorf("-batch-wait %s: want above 0 and at most 1m, as the kiosk's mqtt.batch_wait", w)
				}
				vs = append(vs, fleetVariant{name: "sqlite-wait-" + w.String(), engine: e, replicas: 1, batchWait: w})
			}
		case "postgres":
			for _, n := range o.replicas {
				if n < 1 || n > 9 {
					return nil, fmt.Errorf("-replicas %d: want 1 to 9 hubs", n)
				}
				vs = append(vs, fleetVariant{name: fmt.Sprintf("postgres-%d", n), engine: e, replicas: n})
				if len(o.pgFlags) > 0 {
					vs = append(vs, fleetVariant{name: fmt.Sprintf("postgres-%d-flags", n), engine: e, replicas: n, flags: o.pgFlags})
				}
			}
		default:
			return nil, fmt.Errorf("-engines %q: want sqlite or postgres", e)
		}
	}
	if len(vs) == 0 {
		return nil, errors.New("-engines names no engine: want sqlite, postgres or both")
	}
	return vs, nil
}

// fleetRun is what one run of a scene measured.
type fleetRun struct {
	scene         string
	variant       string
	took          time.Duration // outage: until every backlog was acked
	entries       int
	cpuShare      float64       // of one core, over the measured time, summed over the replicas
	rssMB, peakMB float64       // summed over the replicas
	pgShare       float64       // PostgreSQL's processes, of one core (-1: not measured)
	pgMB          float64       // PostgreSQL's processes' proportional set size
	p50, p99      time.Duration // rush: kiosk commit to hub ack
	peakRate      float64       // outage: entries acked in the best second
	alertMax      time.Duration
	alertP99      time.Duration
	alerts        int
	deferred      float64       // batches a replica's group left for the next, their kiosk busy on another
	dropped       float64       // batches the hub dropped (its queue full)
	held          float64       // batches the hub held back (back-pressure)
	resends       int           // kiosks' ack timeouts
	unfinished    bool          // outage: stopped at the limit with backlogs left
	profile       *fleetProfile // rush: the first hub's CPU profile being taken (-profile-rush)
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
	variants, err := fleetVariants(o)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "fleet   enrolling %d kiosks, building the hub...\n", o.kiosks)
	setup, err := enrollFleet(ctx, filepath.Join(dir, "fleet"), o.kiosks, maxReplicas(variants))
	if err != nil {
		return nil, fmt.Errorf("fleet setup: %w", err)
	}
	if slices.ContainsFunc(variants, func(v fleetVariant) bool { return v.engine == "postgres" }) {
		if setup.pg, err = startFleetPostgres(ctx, o.database, out); err != nil {
			return nil, fmt.Errorf("fleet setup: %w", err)
		}
		defer setup.pg.stop()
		if err := setup.pg.enroll(ctx, setup.kiosks); err != nil {
			return nil, fmt.Errorf("fleet setup: %w", err)
		}
	}
	var all []fleetRun
	for _, scene := range scenes {
		var runs []fleetRun
		for i, v := range variants {
			runDir := filepath.Join(dir, "fleet", fmt.Sprintf("%s-%d-%s", scene, i, v.name))
			r, err := setup.run(ctx, runDir, scene, v, o, out)
			if err != nil {
				return nil, fmt.Errorf("fleet %s (%s): %w", scene, v.name, err)
			}
			r.print(out, scene, o)
			runs = append(runs, r)
			// Keep the hubs' logs beside the data (-dir) for a look at what they did.
			logs, _ := filepath.Glob(filepath.Join(runDir, "hub*.log"))
			for _, l := range logs {
				os.Rename(l, runDir+"-"+filepath.Base(l))
			}
			os.RemoveAll(runDir)
		}
		printFleetRatios(out, scene, runs)
		all = append(all, runs...)
	}
	return all, nil
}

func maxReplicas(vs []fleetVariant) int {
	n := 1
	for _, v := range vs {
		n = max(n, v.replicas)
	}
	return n
}

// run is one scene against one hub variant, each on a fresh broker, hub
// data folder (and PostgreSQL database) and kiosk journals.
func (s *fleetSetup) run(ctx context.Context, dir, scene string, v fleetVariant, o fleetOptions, out io.Writer) (fleetRun, error) {
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
	hubs, err := s.startHubs(ctx, dir, url, scene, v)
	if err != nil {
		return fleetRun{}, err
	}
	defer hubs.stop()
	kiosks := make([]*fleetKiosk, len(s.kiosks))
	for i, k := range s.kiosks {
		kiosks[i] = newFleetKiosk(k.site, k.name, k.user, k.secret, k.key)
		kiosks[i].fixedAckWait = v.fixedAckWait
		kiosks[i].batchWait = v.batchWait
	}
	r := fleetRun{scene: scene, variant: v.name}
	if scene == "rush" {
		err = s.rush(ctx, url, hubs, kiosks, o, &r, dir+"-cpu.pprof")
		if r.profile != nil {
			r.profile.report(ctx, out, scene, v.name, s.hubBin)
		}
	} else {
		var prof *fleetProfile
		if o.profileFor > 0 {
			prof = hubs.list[0].profile(ctx, dir+"-cpu.pprof", o.profileFor)
		}
		err = s.outage(ctx, url, hubs, kiosks, o, &r)
		if prof != nil {
			prof.report(ctx, out, scene, v.name, s.hubBin)
		}
		if v.engine == "postgres" && err == nil {
			printSlowest(ctx, out, v.name, s.pg, hubs.database)
		}
	}
	r.dropped = hubs.metric("gatepost_hub_inbox_dropped_total")
	r.held = hubs.metric("gatepost_hub_inbox_held_total")
	r.deferred = hubs.metric("gatepost_hub_batches_deferred_total")
	var lags []time.Duration
	for _, k := range kiosks {
		if k.client != nil {
			k.client.Disconnect(100)
		}
		r.resends += k.resends
		r.alerts += len(k.alertLag)
		lags = append(lags, k.alertLag...)
	}
	r.alertMax, r.alertP99 = quantile(lags, 1), quantile(lags, 0.99)
	return r, err
}

// rush: every kiosk online, committing entries at a gate's morning peak
// and sending each at once; measured over o.rushFor after a warm-up.
func (s *fleetSetup) rush(ctx context.Context, url string, hub *fleetHubs, kiosks []*fleetKiosk, o fleetOptions, r *fleetRun, profile string) error {
	if err := connectAll(kiosks, url, s); err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, k := range kiosks {
		wg.Go(func() { k.run(runCtx, o.every) })
	}
	defer func() { stop(); wg.Wait() }()
	// Warm-up: first entries, retained acks, and the first partial
	// batches held their batch wait.
	if err := sleep(ctx, min(5*time.Second, o.rushFor/4)+kiosks[0].batchWait); err != nil {
		return err
	}
	for _, k := range kiosks {
		k.mu.Lock()
		k.latency, k.alertLag = nil, nil
		k.mu.Unlock()
	}
	mark := hub.mark()
	if o.profileFor > 0 && o.profileRush {
		r.profile = hub.list[0].profile(ctx, profile, min(o.profileFor, o.rushFor))
	}
	if err := sleep(ctx, o.rushFor); err != nil {
		return err
	}
	r.took = hub.measure(mark, r)
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
func (s *fleetSetup) outage(ctx context.Context, url string, hub *fleetHubs, kiosks []*fleetKiosk, o fleetOptions, r *fleetRun) error {
	for _, k := range kiosks {
		for range o.backlog {
			k.appendEntry(false)
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	mark := hub.mark()
	start := mark.at
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
	r.took, r.entries = hub.measure(mark, r), int(want)
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
	pg := ""
	if r.pgShare >= 0 && strings.HasPrefix(r.variant, "postgres") {
		pg = fmt.Sprintf("; PostgreSQL CPU %.1f%% of a core, PSS %.0f MB", 100*r.pgShare, r.pgMB)
	}
	switch scene {
	case "rush":
		fmt.Fprintf(out, "fleet   rush   %-13s %d kiosks, %d entries in %.0f s (%.0f/s): commit→ack p50 %s p99 %s (goal ≤ 1 s); hub CPU %.1f%% of a core (goal ≤ 10%% on SQLite), RSS %.0f MB (peak %.0f)%s; alerts %d, longest wait %s (p99 %s); dropped %.0f, held %.0f, deferred %.0f, kiosk resends %d\n",
			r.variant, o.kiosks, r.entries, r.took.Seconds(), float64(r.entries)/r.took.Seconds(), ms(r.p50), ms(r.p99),
			100*r.cpuShare, r.rssMB, r.peakMB, pg, r.alerts, ms(r.alertMax), ms(r.alertP99), r.dropped, r.held, r.deferred, r.resends)
	default:
		if r.unfinished {
			fmt.Fprintf(out, "fleet   outage %-13s UNFINISHED: stopped at the %s limit with %d of %d entries acked\n",
				r.variant, o.limit, r.entries, o.kiosks*o.backlog)
		}
		fmt.Fprintf(out, "fleet   outage %-13s %d kiosks × %d: backlog acked in %.1f s (%.0f entries/s; goal ≥ 20,000 on SQLite), peak %.0f/s; hub CPU %.0f%% of a core, RSS %.0f MB (peak %.0f)%s; alerts %d, longest wait %s (goal ≤ 2 s; p99 %s); batches dropped %.0f (must be 0 after), held %.0f, deferred %.0f, kiosk resends %d\n",
			r.variant, o.kiosks, o.backlog, r.took.Seconds(), float64(r.entries)/r.took.Seconds(), r.peakRate,
			100*r.cpuShare, r.rssMB, r.peakMB, pg, r.alerts, ms(r.alertMax), ms(r.alertP99), r.dropped, r.held, r.deferred, r.resends)
	}
}

// printFleetRatios compares each run of a scene with SQLite's hub: each
// PostgreSQL run to it, and it to the hub before group commit.
func printFleetRatios(out io.Writer, scene string, runs []fleetRun) {
	i := slices.IndexFunc(runs, func(r fleetRun) bool { return r.variant == "sqlite" })
	if i < 0 {
		return
	}
	base := runs[i]
	for _, r := range runs {
		switch {
		case r.variant == base.variant:
			continue
		case r.variant == "sqlite-before" && scene == "rush":
			fmt.Fprintf(out, "fleet   rush   sqlite/sqlite-before: hub CPU %.2fx less, p99 %.2fx\n",
				r.cpuShare/base.cpuShare, float64(base.p99)/float64(max(r.p99, 1)))
		case r.variant == "sqlite-before":
			fmt.Fprintf(out, "fleet   outage sqlite/sqlite-before: %.2fx faster (%.1f s vs %.1f s), dropped %.0f vs %.0f, resends %d vs %d\n",
				r.took.Seconds()/base.took.Seconds(), base.took.Seconds(), r.took.Seconds(), base.dropped, r.dropped, base.resends, r.resends)
		case scene == "rush":
			fmt.Fprintf(out, "fleet   rush   %s/sqlite: hub CPU %.2fx (%.1f%% vs %.1f%%), %s, p50 %.2fx, p99 %.2fx\n",
				r.variant, r.cpuShare/base.cpuShare, 100*r.cpuShare, 100*base.cpuShare, withPostgres(r, base),
				float64(r.p50)/float64(max(base.p50, 1)), float64(r.p99)/float64(max(base.p99, 1)))
		default:
			rate := func(r fleetRun) float64 { return float64(r.entries) / r.took.Seconds() }
			fmt.Fprintf(out, "fleet   outage %s/sqlite: ingest rate %.2fx (%.0f vs %.0f entries/s), time %.2fx, peak %.2fx, hub CPU %.2fx, %s\n",
				r.variant, rate(r)/rate(base), rate(r), rate(base), r.took.Seconds()/base.took.Seconds(), r.peakRate/max(base.peakRate, 1),
				r.cpuShare/base.cpuShare, withPostgres(r, base))
		}
	}
}

// withPostgres compares the CPU of r's hubs and PostgreSQL together with
// SQLite's hub alone (SQLite's engine runs inside the hub).
func withPostgres(r, base fleetRun) string {
	if r.pgShare < 0 {
		return "PostgreSQL's CPU not measured"
	}
	return fmt.Sprintf("hubs and PostgreSQL together %.2fx", (r.cpuShare+r.pgShare)/base.cpuShare)
}
