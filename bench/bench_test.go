package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// paho's Disconnect leaves a goroutine that ends on its own shortly after.
		goleak.IgnoreAnyFunction("github.com/eclipse/paho%2emqtt%2egolang.(*client).Disconnect.func1"))
}

// TestBenchRuns runs every benchmark small, so the code keeps working;
// the figures come from `go run ./bench` (docs/benchmarks.md).
func TestBenchRuns(t *testing.T) {
	if _, err := mosquittoPath(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v, and CI must run every test", err)
		}
		t.Skipf("%v (or run ./test.sh, which installs it)", err)
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), options{n: 2000, appends: 100, burst: 40, lull: 600 * time.Millisecond, gzipAbove: 4096, rounds: 1, dir: t.TempDir()}, f); err != nil {
		t.Fatal(err)
	}
	f.Seek(0, 0)
	var out bytes.Buffer
	out.ReadFrom(f)
	for _, want := range []string{"append ", "ingest ", "drain ", "drain-tls ", "ratio"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	t.Log("\n" + out.String())
}

// TestChainCostRuns runs the cost benchmark of the chain and signatures
// small (go run ./bench -only chaincost gives the figures).
func TestChainCostRuns(t *testing.T) {
	if _, err := mosquittoPath(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v, and CI must run every test", err)
		}
		t.Skipf("%v (or run ./test.sh, which installs it)", err)
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	o := options{n: 2000, appends: 40, burst: 20, lull: 10 * time.Millisecond, rounds: 1, only: "chaincost", dir: t.TempDir(), verifyN: 3000}
	if err := run(t.Context(), o, f); err != nil {
		t.Fatal(err)
	}
	f.Seek(0, 0)
	var out bytes.Buffer
	out.ReadFrom(f)
	for _, want := range []string{"chain-ingest ", "chain-ingest-cost ", "chain-append ", "chain-drain-cost ", "chain-drain ", "chain-verify "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestFleetSmoke runs the fleet benchmark small (20 kiosks, 50 entries
// each): both scenes, the hub before and after, real Mosquitto and a real
// `hub serve` process. The figures come from `go run ./bench -only fleet`.
func TestFleetSmoke(t *testing.T) {
	if _, err := mosquittoPath(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v, and CI must run every test", err)
		}
		t.Skipf("%v (or run ./test.sh, which installs it)", err)
	}
	var out bytes.Buffer
	o := fleetOptions{kiosks: 20, backlog: 50, scene: "both", rushFor: 2 * time.Second, every: 500 * time.Millisecond, spread: time.Second,
		limit: time.Minute}
	runs, err := benchFleet(t.Context(), t.TempDir(), o, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.unfinished {
			t.Errorf("%s %s: backlogs left after a minute", r.scene, r.variant)
		}
		if r.variant == "after" && (r.dropped != 0 || r.alertMax > 2*time.Second) {
			t.Errorf("%s after: %.0f batches dropped, longest alert wait %s; want 0 and at most 2s", r.scene, r.dropped, r.alertMax)
		}
	}
	for _, want := range []string{"rush   before", "rush   after", "outage before", "outage after", "after/before"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(out.String(), "backlog acked in") {
		t.Errorf("the outage's backlogs were not all acked:\n%s", out.String())
	}
	t.Log("\n" + out.String())
}
