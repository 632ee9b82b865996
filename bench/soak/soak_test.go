package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

// These tests cover the soak's arithmetic and parsing only, in
// milliseconds: the soak itself runs for half an hour and is never run by
// `go test`.

func TestSlope(t *testing.T) {
	for _, c := range []struct {
		name   string
		xs, ys []float64
		want   float64
	}{
		{"flat", []float64{0, 1, 2, 3}, []float64{5, 5, 5, 5}, 0},
		{"rising", []float64{0, 1, 2, 3}, []float64{1, 3, 5, 7}, 2},
		{"noisy falling", []float64{0, 1, 2}, []float64{3, 1, 2}, -0.5},
		{"too few", []float64{0, 1}, []float64{0, 1}, math.NaN()},
		{"no spread", []float64{1, 1, 1}, []float64{0, 1, 2}, math.NaN()},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := slope(c.xs, c.ys)
			if !(got == c.want || math.IsNaN(got) && math.IsNaN(c.want)) && math.Abs(got-c.want) > 1e-9 {
				t.Errorf("slope(%v, %v) = %v, want %v", c.xs, c.ys, got, c.want)
			}
		})
	}
}

// The trend ignores the first half (warm-up) and is per 10 minutes.
func TestTrendIsTheSecondHalfPerTenMinutes(t *testing.T) {
	var ps []point
	for m := 1; m <= 30; m++ {
		v := 20.0 // flat in the second half
		if m < 15 {
			v = float64(m) // warm-up: rising fast
		}
		ps = append(ps, point{time.Duration(m) * time.Minute, v})
	}
	if got := trend(ps); got != 0 {
		t.Errorf("trend with a rising warm-up and a flat second half = %v, want 0", got)
	}
	for i := range ps {
		ps[i].v = 20 + 0.1*ps[i].at.Minutes() // 0.1 MB a minute
	}
	if got := trend(ps); math.Abs(got-1) > 1e-9 {
		t.Errorf("trend of 0.1 MB a minute = %v MB/10 min, want 1", got)
	}
}

func TestEnds(t *testing.T) {
	ps := []point{{0, 30}, {1, 99}, {2, 31}, {3, 30}, {4, 40}, {5, 41}, {6, 42}}
	first, last := ends(ps)
	if first != 31 || last != 41 {
		t.Errorf("ends = %v, %v; want 31 (a spike ignored), 41", first, last)
	}
	if first, last := ends(nil); !math.IsNaN(first) || !math.IsNaN(last) {
		t.Errorf("ends(nil) = %v, %v; want NaN, NaN", first, last)
	}
}

func TestParseMetrics(t *testing.T) {
	page := `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 31
go_memstats_heap_inuse_bytes 4.202496e+06
gatepost_hub_rejected_total{reason="bad_message"} 2
gatepost_hub_rejected_total{reason="a } brace \" and quote"} 3
broken{reason="unterminated 5
not_a_number NaNx
`
	m, err := parseMetrics(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"go_goroutines": 31, "go_memstats_heap_inuse_bytes": 4202496, "gatepost_hub_rejected_total": 5}
	for name, v := range want {
		if m[name] != v {
			t.Errorf("parseMetrics: %s = %v, want %v", name, m[name], v)
		}
	}
	if len(m) != len(want) {
		t.Errorf("parseMetrics read %v, want only %v", m, want)
	}
}

func FuzzParseMetrics(f *testing.F) {
	f.Add("go_goroutines 31\n")
	f.Add(`x{a="b \" }"} 1` + "\n# c\n")
	f.Add("{\n} \n\"")
	f.Fuzz(func(t *testing.T, page string) {
		m, _ := parseMetrics(strings.NewReader(page))
		for name := range m {
			if name == "" || strings.ContainsAny(name, "{ ") {
				t.Errorf("parseMetrics(%q) read a name %q", page, name)
			}
		}
	})
}

// A kiosk over the limit, a growing one and a leaking hub each miss a
// goal; a steady system meets them all.
func TestJudge(t *testing.T) {
	lim := limits{kioskMB: 30, flatMBPer10m: 1, goroutines: 5, fds: 3}
	run := func(kioskRSS func(m float64) float64, hubFDs func(m float64) float64) []sample {
		var ss []sample
		for m := 1; m <= 30; m++ {
			at := time.Duration(m) * time.Minute
			rss := kioskRSS(float64(m))
			ss = append(ss,
				sample{at: at, name: "gate-1", kiosk: true, rssMB: rss, peakMB: rss, heapMB: 4, goroutines: 30, fds: 25, written: float64(200 * m), acked: float64(200 * m)},
				sample{at: at, name: "hub", rssMB: 40, peakMB: 60, heapMB: 10, goroutines: 45, fds: hubFDs(float64(m)), written: float64(400 * m)})
		}
		return ss
	}
	steady := func(float64) float64 { return 25 }
	for _, c := range []struct {
		name     string
		samples  []sample
		ok       bool
		mentions string
	}{
		{"steady", run(steady, steady), true, "every goal met"},
		{"over the limit", run(func(float64) float64 { return 31 }, steady), false, "above 30 MB"},
		{"growing", run(func(m float64) float64 { return 20 + 0.2*m }, steady), false, "not flat"},
		{"hub leaking files", run(steady, func(m float64) float64 { return 30 + m }), false, "hub's open files grew"},
		{"hub opening files while warming up", run(steady, func(m float64) float64 { return 31 + min(m, 5) }), true, "every goal met"},
		{"nothing sampled", nil, false, "no samples"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out strings.Builder
			if ok := judge(&out, c.samples, lim); ok != c.ok || !strings.Contains(out.String(), c.mentions) {
				t.Errorf("judge = %v, want %v, saying %q:\n%s", ok, c.ok, c.mentions, out.String())
			}
		})
	}
}
