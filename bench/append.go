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
func benchAppend(ctx context.Context, dir string, n int) (result, error) {
	j, err := journal.Open(filepath.Join(dir, "append.db"), "bench-1")
	if err != nil {
		return result{}, err
	}
	defer j.Close()
	ours := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		e := entry("bench-1", 0)
		e.ID = ""
		start := time.Now()
		if _, err := j.Append(ctx, e); err != nil {
			return result{}, err
		}
		ours = append(ours, time.Since(start))
	}
	f, err := os.Create(filepath.Join(dir, "fsync.bin"))
	if err != nil {
		return result{}, err
	}
	defer f.Close()
	body, _ := protocol.EncodeEntry(entry("bench-1", 1))
	raw := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		if _, err := f.Write(body); err != nil {
			return result{}, err
		}
		if err := f.Sync(); err != nil {
			return result{}, err
		}
		raw = append(raw, time.Since(start))
	}
	o50, o99 := pct(ours, 50), pct(ours, 99)
	r50, r99 := pct(raw, 50), pct(raw, 99)
	return result{
		name: "append", unit: "µs p99", ours: us(o99), baseline: us(r99), baseName: "write+fsync",
		detail: fmt.Sprintf("%d appends: journal p50 %.0f µs p99 %.0f µs; raw write+fsync p50 %.0f µs p99 %.0f µs; p99 ratio journal/fsync %.2f (target ≤ 1.5)",
			n, us(o50), us(o99), us(r50), us(r99), us(o99)/us(r99)),
	}, nil
}

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p/100))]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
