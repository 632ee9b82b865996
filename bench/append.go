package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
)

// benchAppend times journal.Append (one transaction, WAL, synchronous=FULL)
// against the floor any durable write pays: writing a few hundred bytes to
// a file on the same disk and fsyncing it.
//
// A gate's traffic comes in rushes with lulls between them, and the
// journal uses the lulls to fold its write-ahead log into the database
// (see kiosk/journal/checkpoint.go), so the headline figure appends in
// rushes of burst entries with a lull longer than the journal's idle
// time between them. The sustained figure appends n entries back to
// back into a new journal, with no lull at all: the worst case, where
// the log only grows and SQLite checkpoints inside commits.
func benchAppend(ctx context.Context, dir string, n, burst int, lull time.Duration) (result, error) {
	gate, err := timeAppends(ctx, filepath.Join(dir, "append-gate.db"), n, burst, lull)
	if err != nil {
		return result{}, err
	}
	sustained, err := timeAppends(ctx, filepath.Join(dir, "append-sustained.db"), n, n, 0)
	if err != nil {
		return result{}, err
	}
	raw, err := timeFsyncs(filepath.Join(dir, "fsync-gate.bin"), n, burst, lull)
	if err != nil {
		return result{}, err
	}
	rawSustained, err := timeFsyncs(filepath.Join(dir, "fsync-sustained.bin"), n, n, 0)
	if err != nil {
		return result{}, err
	}
	g50, g99 := pct(gate, 50), pct(gate, 99)
	s50, s99 := pct(sustained, 50), pct(sustained, 99)
	r50, r99 := pct(raw, 50), pct(raw, 99)
	rs50, rs99 := pct(rawSustained, 50), pct(rawSustained, 99)
	return result{
		name: "append", unit: "µs p99", ours: us(g99), baseline: us(r99), baseName: "write+fsync",
		detail: fmt.Sprintf("%d appends in rushes of %d with %v lulls: journal p50 %.0f µs p99 %.0f µs; "+
			"raw write+fsync p50 %.0f µs p99 %.0f µs; p99 ratio journal/fsync %.2f (target ≤ 1.5)\n"+
			"        sustained, %d back to back, no lull: journal p50 %.0f µs p99 %.0f µs; raw p50 %.0f µs p99 %.0f µs; p99 ratio %.2f",
			n, burst, lull, us(g50), us(g99), us(r50), us(r99), us(g99)/us(r99),
			n, us(s50), us(s99), us(rs50), us(rs99), us(s99)/us(rs99)),
	}, nil
}

// timeFsyncs writes an encoded entry to the end of a new file at path and
// fsyncs it, n times, in the same rushes and lulls as timeAppends.
func timeFsyncs(path string, n, burst int, lull time.Duration) ([]time.Duration, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	body, _ := protocol.EncodeEntry(entry("bench-1", 1))
	ds := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		if i > 0 && i%burst == 0 && lull > 0 {
			time.Sleep(lull)
		}
		start := time.Now()
		if _, err := f.Write(body); err != nil {
			return nil, err
		}
		if err := f.Sync(); err != nil {
			return nil, err
		}
		ds = append(ds, time.Since(start))
	}
	return ds, nil
}

// timeAppends appends n entries to a new journal at path in rushes of
// burst with a lull between rushes, and returns each append's time.
func timeAppends(ctx context.Context, path string, n, burst int, lull time.Duration) ([]time.Duration, error) {
	j, err := journal.Open(path, "bench-1")
	if err != nil {
		return nil, err
	}
	defer j.Close()
	ds := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		if i > 0 && i%burst == 0 && lull > 0 {
			time.Sleep(lull)
		}
		e := entry("bench-1", 0)
		e.ID = ""
		start := time.Now()
		if _, err := j.Append(ctx, e); err != nil {
			return nil, err
		}
		ds = append(ds, time.Since(start))
	}
	return ds, nil
}

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p/100))]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
