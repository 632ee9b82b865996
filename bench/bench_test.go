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
// each): both scenes, real Mosquitto and real `hub serve` processes, on
// SQLite with one hub and, on the test server (GATEPOST_TEST_POSTGRES,
// as -database), on PostgreSQL with one hub and with three replicas
// sharing the kiosks' messages. The figures come from `go run ./bench
// -only fleet`.
func TestFleetSmoke(t *testing.T) {
	if _, err := mosquittoPath(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v, and CI must run every test", err)
		}
		t.Skipf("%v (or run ./test.sh, which installs it)", err)
	}
	o := fleetOptions{kiosks: 20, backlog: 50, scene: "both", rushFor: 2 * time.Second, every: 500 * time.Millisecond, spread: time.Second,
		limit: time.Minute, engines: []string{"sqlite"}, replicas: []int{1, 3}, profileFor: time.Second}
	want := []string{"rush   sqlite ", "outage sqlite ", "backlog acked in", "outage sqlite        CPU profile of hub-1"}
	if pg := os.Getenv("GATEPOST_TEST_POSTGRES"); pg != "" {
		o.engines, o.database = append(o.engines, "postgres"), pg
		want = append(want, "rush   postgres-1 ", "rush   postgres-3 ", "outage postgres-3 ", "postgres-3/sqlite: ingest rate",
			"postgres-1/sqlite: hub CPU", "outage postgres-3    CPU profile of hub-1")
	} else if os.Getenv("CI") != "" {
		t.Fatal("no PostgreSQL for the fleet benchmark (GATEPOST_TEST_POSTGRES, set by ./test.sh), and CI must run every test")
	} else {
		t.Log("no GATEPOST_TEST_POSTGRES: SQLite alone (./test.sh starts a PostgreSQL and runs both)")
	}
	var out bytes.Buffer
	runs, err := benchFleet(t.Context(), t.TempDir(), o, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, r := range runs {
		if r.unfinished {
			t.Errorf("%s %s: backlogs left after a minute", r.scene, r.variant)
		}
		// The 2 s bound holds SQLite's hub here. Replicas may wait
		// for each other's lock on a kiosk (docs/benchmarks.md), so on
		// PostgreSQL the smoke test only catches an alert left behind.
		bound := 2 * time.Second
		if r.variant != "sqlite" {
			bound = 10 * time.Second
		}
		if r.dropped != 0 || r.alertMax > bound {
			t.Errorf("%s %s: %.0f batches dropped, longest alert wait %s; want 0 and at most %s", r.scene, r.variant, r.dropped, r.alertMax, bound)
		}
	}
	wantRuns := 2 // each scene on SQLite
	if o.database != "" {
		wantRuns = 6 // and on PostgreSQL with one hub and with three replicas
	}
	if len(runs) != wantRuns {
		t.Errorf("%d runs, want each scene on SQLite and, with PostgreSQL, on one hub and three replicas:\n%s", len(runs), out.String())
	}
	for _, w := range want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
	t.Log("\n" + out.String())
}
