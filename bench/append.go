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
// against the floor any durable write pays: writing the same entry's
// bytes to the end of a file on the same disk and fsyncing it.
//
// A gate's traffic comes in rushes with lulls between them, and the
// journal uses the lulls to fold its write-ahead log into the database
// (see kiosk/journal/checkpoint.go), so the headline figure appends in
// rushes of burst entries with a lull longer than the journal's idle
// time between them. The sustained figure has no lull at all: the worst
// case, where the log only grows and SQLite checkpoints inside commits.
//
// Ours and the baseline take turns, rush by rush (which goes first
// alternates), so that load from anything else on the machine falls on
// both alike.
func benchAppend(ctx context.Context, dir string, n, burst int, lull time.Duration) (result, error) {
	gate, raw, err := timeInTurns(ctx, dir, "gate", n, burst, lull)
	if err != nil {
		return result{}, err
	}
	sustained, rawSustained, err := timeInTurns(ctx, dir, "sustained", n, burst, 0)
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
			"        sustained, %d in rushes of %d with no lull: journal p50 %.0f µs p99 %.0f µs; raw p50 %.0f µs p99 %.0f µs; p99 ratio %.2f",
			n, burst, lull, us(g50), us(g99), us(r50), us(r99), us(g99)/us(r99),
			n, burst, us(s50), us(s99), us(rs50), us(rs99), us(s99)/us(rs99)),
	}, nil
}

// timeInTurns appends n entries to a new journal and writes+fsyncs n
// entries' bytes to a new file, in turns of burst each, sleeping lull
// after each pair of turns, and returns each operation's time.
func timeInTurns(ctx context.Context, dir, name string, n, burst int, lull time.Duration) (ours, raw []time.Duration, err error) {
	j, err := journal.Open(filepath.Join(dir, "append-"+name+".db"), "bench-1")
	if err != nil {
		return nil, nil, err
	}
	defer j.Close()
	f, err := os.Create(filepath.Join(dir, "fsync-"+name+".bin"))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	body, _ := protocol.EncodeEntry(entry("bench-1", 1))
	appendOne := func() error {
		e := entry("bench-1", 0)
		e.ID = ""
		start := time.Now()
		if _, err := j.Append(ctx, e); err != nil {
			return err
		}
		ours = append(ours, time.Since(start))
		return nil
	}
	fsyncOne := func() error {
		start := time.Now()
		if _, err := f.Write(body); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		raw = append(raw, time.Since(start))
		return nil
	}
	for turn := 0; turn*burst < n; turn++ {
		if turn > 0 && lull > 0 {
			time.Sleep(lull)
		}
		k := min(burst, n-turn*burst)
		first, second := appendOne, fsyncOne
		if turn%2 == 1 {
			first, second = fsyncOne, appendOne
		}
		for _, op := range []func() error{first, second} {
			for range k {
				if err := op(); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	return ours, raw, nil
}

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p/100))]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
