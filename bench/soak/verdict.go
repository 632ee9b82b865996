package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// limits are the goals a soak is judged by.
type limits struct {
	kioskMB      float64 // a kiosk's resident memory, at most
	flatMBPer10m float64 // a memory trend below this is flat
	goroutines   float64 // growth allowed between the first and the last samples
	fds          float64
}

func printHeader(w io.Writer) {
	fmt.Fprintln(w, "| min | process | RSS MB | anon MB | heap MB | goroutines | open files | store MB | entries | acked | unsynced |")
	fmt.Fprintln(w, "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
}

func printRows(w io.Writer, ss []sample) {
	for _, s := range ss {
		fmt.Fprintf(w, "| %.1f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.at.Minutes(), s.name,
			figure(s.rssMB, 1), figure(s.anonMB, 1), figure(s.heapMB, 1), figure(s.goroutines, 0), figure(s.fds, 0),
			figure(s.storeMB, 2), figure(s.written, 0), figure(s.acked, 0), figure(s.unsynced, 0))
	}
}

// figure prints v with prec decimals, or "-" when it was not read.
func figure(v float64, prec int) string {
	if v < 0 {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

// judge prints the verdict on the samples and says whether every goal
// was met: each kiosk's memory at most the limit and flat, and no
// process's goroutines or open files growing.
func judge(w io.Writer, samples []sample, lim limits) bool {
	var names []string
	byName := map[string][]sample{}
	for _, s := range samples {
		if _, ok := byName[s.name]; !ok {
			names = append(names, s.name)
		}
		byName[s.name] = append(byName[s.name], s)
	}
	var missed []string
	for _, name := range names {
		ss := byName[name]
		missed = append(missed, judgeProcess(w, ss, lim)...)
	}
	if len(samples) == 0 {
		missed = append(missed, "no samples were taken")
	}
	if len(missed) == 0 {
		fmt.Fprintf(w, "\nVERDICT: every goal met (kiosk memory at most %g MB and flat, no growth in goroutines or open files).\n", lim.kioskMB)
		return true
	}
	fmt.Fprintf(w, "\nVERDICT: goals missed: %s.\n", strings.Join(missed, "; "))
	return false
}

// judgeProcess prints one process's lines of the verdict and returns the
// goals it missed.
func judgeProcess(w io.Writer, ss []sample, lim limits) (missed []string) {
	name, kiosk := ss[0].name, ss[0].kiosk
	rss := series(ss, func(s sample) float64 { return s.rssMB })
	heap := series(ss, func(s sample) float64 { return s.heapMB })
	anon := series(ss, func(s sample) float64 { return s.anonMB })
	// The peak counts what was resident between samples too.
	maxRSS, peak := maxOf(rss), maxOf(series(ss, func(s sample) float64 { return s.peakMB }))
	rssTrend, heapTrend := trend(rss), trend(heap)
	line := fmt.Sprintf("%s: RSS max %.1f MB sampled, %.1f MB peak (VmHWM)", name, maxRSS, peak)
	if kiosk {
		line += fmt.Sprintf(" (goal at most %g MB)", lim.kioskMB)
		if top := math.Max(maxRSS, peak); !(top <= lim.kioskMB) {
			missed = append(missed, fmt.Sprintf("%s's memory reached %.1f MB, above %g MB", name, top, lim.kioskMB))
		}
	}
	line += fmt.Sprintf(", trend %s (%s); anonymous max %.1f MB, trend %s; Go heap max %.1f MB, trend %s",
		perTen(rssTrend), flatness(rssTrend, lim.flatMBPer10m), maxOf(anon), perTen(trend(anon)), maxOf(heap), perTen(heapTrend))
	if kiosk && !(math.Abs(rssTrend) < lim.flatMBPer10m) {
		missed = append(missed, fmt.Sprintf("%s's memory is not flat: %s over the second half", name, perTen(rssTrend)))
	}
	fmt.Fprintln(w, line)
	for _, c := range []struct {
		what  string
		get   func(sample) float64
		slack float64
	}{
		{"goroutines", func(s sample) float64 { return s.goroutines }, lim.goroutines},
		{"open files", func(s sample) float64 { return s.fds }, lim.fds},
	} {
		ps := series(ss, c.get)
		first, _ := ends(ps)
		mid, last := ends(secondHalf(ps))
		verdict := "steady"
		if math.IsNaN(mid) || math.IsNaN(last) {
			verdict = "not read"
			missed = append(missed, fmt.Sprintf("%s's %s could not be read", name, c.what))
		} else if last > mid+c.slack {
			verdict = fmt.Sprintf("GROWING (more than %g above the middle)", c.slack)
			missed = append(missed, fmt.Sprintf("%s's %s grew from %g to %g over the second half", name, c.what, mid, last))
		}
		fmt.Fprintf(w, "  %s: %g at the start, %g at the middle, %g at the end (medians of 3 samples; judged from the middle, after the warm-up): %s\n",
			c.what, first, mid, last, verdict)
	}
	end := ss[len(ss)-1]
	if mins := end.at.Minutes(); kiosk && end.written >= 0 && mins > 0 {
		fmt.Fprintf(w, "  %.0f entries journaled (%.0f a minute), %.0f acked by the hub, %.0f unsynced at the end; journal %.2f MB\n",
			end.written, end.written/mins, end.acked, end.unsynced, end.storeMB)
	} else if !kiosk && end.written >= 0 && mins > 0 {
		fmt.Fprintf(w, "  %.0f entries stored (%.0f a minute); hub.db with its log %.2f MB\n", end.written, end.written/mins, end.storeMB)
	}
	return missed
}

// point is one reading at a moment.
type point struct {
	at time.Duration
	v  float64
}

// series is one figure of the samples, those not read left out.
func series(ss []sample, get func(sample) float64) []point {
	var ps []point
	for _, s := range ss {
		if v := get(s); v >= 0 {
			ps = append(ps, point{s.at, v})
		}
	}
	return ps
}

func maxOf(ps []point) float64 {
	m := math.NaN()
	for _, p := range ps {
		if math.IsNaN(m) || p.v > m {
			m = p.v
		}
	}
	return m
}

// secondHalf is the points of ps from half its time span on: the first
// half is the warm-up (caches, pools and connections filling).
func secondHalf(ps []point) []point {
	if len(ps) == 0 {
		return nil
	}
	half := ps[len(ps)-1].at / 2
	i := 0
	for i < len(ps) && ps[i].at < half {
		i++
	}
	return ps[i:]
}

// trend is the slope of the least-squares line through the second half
// of ps (by time: the first half is the warm-up, caches and pools
// filling), in units per 10 minutes; NaN with fewer than 3 points there.
func trend(ps []point) float64 {
	var xs, ys []float64
	for _, p := range secondHalf(ps) {
		xs = append(xs, p.at.Minutes()/10)
		ys = append(ys, p.v)
	}
	return slope(xs, ys)
}

// slope is the least-squares slope of ys on xs; NaN with fewer than 3
// points or no spread in xs.
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if len(xs) < 3 || len(xs) != len(ys) {
		return math.NaN()
	}
	var sx, sy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
	}
	mx, my := sx/n, sy/n
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if sxx == 0 {
		return math.NaN()
	}
	return sxy / sxx
}

// ends are the medians of the first and the last 3 values of ps (fewer
// when there are fewer): one sample taken while a scrape or a recheck is
// in flight does not decide growth.
func ends(ps []point) (first, last float64) {
	if len(ps) == 0 {
		return math.NaN(), math.NaN()
	}
	k := min(3, len(ps))
	vals := func(ps []point) []float64 {
		var vs []float64
		for _, p := range ps {
			vs = append(vs, p.v)
		}
		return vs
	}
	return median(vals(ps[:k])), median(vals(ps[len(ps)-k:]))
}

func median(vs []float64) float64 {
	vs = slices.Clone(vs)
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

func perTen(slope float64) string {
	if math.IsNaN(slope) {
		return "unknown (too few samples)"
	}
	return fmt.Sprintf("%+.2f MB/10 min", slope)
}

func flatness(slope, flat float64) string {
	switch {
	case math.IsNaN(slope):
		return "not judged"
	case math.Abs(slope) < flat:
		return fmt.Sprintf("flat: below %g", flat)
	default:
		return fmt.Sprintf("NOT FLAT: %g or more", flat)
	}
}
