package records

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// BenchmarkRushGroups stores what a hub stores at rush hour: groups of
// four one-entry batches, each from another of 500 gates (one compound
// each) whose entries are chained and whose batches are signed and name
// their journal, each batch in the group's savepoint. It reports the time
// a batch takes on each engine, and the CPU time the process spent on it
// (SQLite's commits wait on the disk; the CPU is what a busy hub runs
// out of):
//
//	GATEPOST_TEST_POSTGRES=postgres://… go test ./hub/records -run '^$' -bench RushGroups -benchtime 2000x
func BenchmarkRushGroups(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			s := e.open(b)
			const gates, perGroup = 500, 4
			journals := make([][]protocol.Entry, gates)
			next := make([]int, gates)
			more := func(g int) protocol.Entry {
				if next[g] == len(journals[g]) {
					journals[g] = chained(fmt.Sprintf("gate-%03d", g), uint64(2*len(journals[g])+64))
				}
				e := journals[g][next[g]]
				next[g]++
				return e
			}
			one := func(g int) protocol.Batch {
				kiosk := fmt.Sprintf("gate-%03d", g)
				return protocol.Batch{Kiosk: kiosk, Site: fmt.Sprintf("compound-%03d", g), Journal: "journal-" + kiosk,
					Sent: t0, Sig: strings.Repeat("A", 86), Entries: []protocol.Entry{more(g)}}
			}
			for g := range gates { // every gate known, as at rush hour
				if _, err := s.SaveBatch(b.Context(), one(g), t0); err != nil {
					b.Fatal(err)
				}
			}
			var took time.Duration
			cpu0 := cpuTime(b)
			for b.Loop() {
				group := make([]protocol.Batch, 0, perGroup)
				for _, g := range rand.Perm(gates)[:perGroup] {
					group = append(group, one(g))
				}
				start := time.Now()
				out, err := s.SaveBatches(b.Context(), group, t0)
				took += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range out {
					if r.Err != nil || r.Saved.Inserted != 1 || !r.Saved.HasHead {
						b.Fatalf("%+v", r)
					}
				}
			}
			cpu := cpuTime(b) - cpu0
			b.ReportMetric(float64(took.Microseconds())/float64(perGroup*b.N), "µs/batch")
			b.ReportMetric(float64(cpu.Microseconds())/float64(perGroup*b.N), "cpu-µs/batch")
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
