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

// rushGroups makes group commits as a hub makes them at rush hour on s:
// groups of four one-entry batches, each from another of 500 gates (one
// compound each) whose entries are chained and whose batches are signed
// and name their journal. Every gate has sent one batch when it returns;
// save stores the next group and returns how long it took.
func rushGroups(b *testing.B, s *SQLite) (save func() time.Duration) {
	const gates, perGroup = 500, 4
	journals := make([][]protocol.Entry, gates)
	next := make([]int, gates)
	one := func(g int) protocol.Batch {
		kiosk := fmt.Sprintf("gate-%03d", g)
		if next[g] == len(journals[g]) {
			journals[g] = chained(kiosk, uint64(2*len(journals[g])+64))
		}
		e := journals[g][next[g]]
		next[g]++
		return protocol.Batch{Kiosk: kiosk, Site: fmt.Sprintf("compound-%03d", g), Journal: "journal-" + kiosk,
			Sent: t0, Sig: strings.Repeat("A", 86), Entries: []protocol.Entry{e}}
	}
	for g := range gates { // every gate known, as at rush hour
		if _, err := s.SaveBatch(b.Context(), one(g), t0); err != nil {
			b.Fatal(err)
		}
	}
	return func() time.Duration {
		group := make([]protocol.Batch, 0, perGroup)
		for _, g := range rand.Perm(gates)[:perGroup] {
			group = append(group, one(g))
		}
		start := time.Now()
		out, err := s.SaveBatches(b.Context(), group, t0)
		took := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range out {
			if r.Err != nil || r.Saved.Inserted != 1 || !r.Saved.HasHead {
				b.Fatalf("%+v", r)
			}
		}
		return took
	}
}

// BenchmarkRushGroups stores rushGroups' groups on each engine and reports
// the time a batch takes, and the CPU time the process spent on it
// (SQLite's commits wait on the disk; the CPU is what a busy hub runs
// out of):
//
//	GATEPOST_TEST_POSTGRES=postgres://… go test ./hub/records -run '^$' -bench RushGroups -benchtime 2000x
func BenchmarkRushGroups(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			save := rushGroups(b, e.open(b))
			var took time.Duration
			cpu0 := cpuTime(b)
			for b.Loop() {
				took += save()
			}
			cpu := cpuTime(b) - cpu0
			b.ReportMetric(float64(took.Microseconds())/float64(4*b.N), "µs/batch")
			b.ReportMetric(float64(cpu.Microseconds())/float64(4*b.N), "cpu-µs/batch")
		})
	}
}

// BenchmarkGroupSavepoints saves groups on each engine with each batch in
// a savepoint of its own from the start and without (saved again in
// savepoints only when one is refused, which none is here), group by
// group in turns, for a drain's groups (drainGroups) and rush hour's
// (rushGroups); it reports both and the ratio. The engine's own way is
// "ours" (dialect.savepointEach; the other is a copy of the dialect with
// it turned):
//
//	GATEPOST_TEST_POSTGRES=postgres://… go test ./hub/records -run '^$' -bench GroupSavepoints -benchtime 200x
func BenchmarkGroupSavepoints(b *testing.B) {
	for _, e := range engines {
		for _, shape := range []struct {
			name  string
			save  func(*testing.B, *SQLite) func() time.Duration
			about string
		}{
			{"drain", drainGroups, "group of 20 x 100 entries"},
			{"rush", rushGroups, "group of 4 x 1 entry"},
		} {
			b.Run(e.name+"/"+shape.name, func(b *testing.B) {
				s := e.open(b)
				save := shape.save(b, s)
				ours := s.dialect
				other := *ours
				other.savepointEach = !ours.savepointEach
				with := func(d *dialect) func() time.Duration {
					return func() time.Duration {
						s.dialect = d
						defer func() { s.dialect = ours }()
						return save()
					}
				}
				is := map[bool]string{true: "in savepoints", false: "without savepoints"}
				inTurnsOf(b, e.name+" "+shape.about, 1, with(ours), with(&other), is[ours.savepointEach], is[other.savepointEach], "other")
			})
		}
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

// BenchmarkRushIndexes prices the console's indexes at rush hour: two
// SQLite stores take rushGroups' groups in turns, one with every index
// and one without the three whose insertion point is a gate's or a
// compound's own (entries_by_site_received_unit,
// entries_by_kiosk_received_unit, entries_by_site_time: a page each for
// every one-entry batch). It reports the CPU time a batch takes on each
// and the ratio. The hub keeps them all: the console's targets on
// 1,000,000 entries rest on them (docs/benchmarks.md, "Console").
//
//	go test ./hub/records -run '^$' -bench RushIndexes -benchtime 2000x
func BenchmarkRushIndexes(b *testing.B) {
	all, _ := openStore(b)
	fewer, _ := openStore(b)
	for _, ix := range []string{"entries_by_site_received_unit", "entries_by_kiosk_received_unit", "entries_by_site_time"} {
		if _, err := fewer.write.Exec(b.Context(), `DROP INDEX `+ix); err != nil {
			b.Fatal(err)
		}
	}
	saveAll, saveFewer := rushGroups(b, all), rushGroups(b, fewer)
	cpuOf := func(save func() time.Duration) func() time.Duration {
		return func() time.Duration {
			start := cpuTime(b)
			save()
			return cpuTime(b) - start
		}
	}
	inTurnsOf(b, "rush group of 4 x 1 entry, CPU", 1, cpuOf(saveAll), cpuOf(saveFewer),
		"with every index", "without the three per gate or compound", "fewer")
}
