package records

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gatepost/gatepost/protocol"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 2, 1, 8, 30, 0, 0, time.UTC)

// openStore opens a store in a fresh directory and closes it at the end.
func openStore(tb testing.TB) (*SQLite, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "hub.db")
	s, err := Open(path)
	if err != nil {
		tb.Fatalf("Open(%q): %v", path, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s, path
}

// entry returns a valid entry; ids differ by kiosk and seq.
func entry(kiosk string, seq uint64) protocol.Entry {
	return protocol.Entry{
		Kiosk:    kiosk,
		Seq:      seq,
		ID:       fmt.Sprintf("0190d6e4-7a4b-7cc0-%04x-%012x", len(kiosk), seq),
		Time:     t0.Add(time.Duration(seq) * time.Second),
		Kind:     protocol.KindCheck,
		Scan:     fmt.Sprintf("GP1:resident:%d", seq),
		Decision: protocol.DecisionAllow,
		Reasons:  []string{"temperature_normal"},
		Temperature: &protocol.Reading{
			ObjectC: 36.5, ScreenedC: 36.5,
		},
	}
}

// batch returns a batch from kiosk at site "site-1" holding seqs.
func batch(kiosk string, seqs ...uint64) protocol.Batch {
	b := protocol.Batch{Kiosk: kiosk, Site: "site-1", Sent: t0.Add(time.Hour)}
	for _, seq := range seqs {
		b.Entries = append(b.Entries, entry(kiosk, seq))
	}
	return b
}

// span returns from, from+1, ..., to.
func span(from, to uint64) []uint64 {
	var seqs []uint64
	for s := from; s <= to; s++ {
		seqs = append(seqs, s)
	}
	return seqs
}

func mustSave(tb testing.TB, s *SQLite, b protocol.Batch, received time.Time) Saved {
	tb.Helper()
	saved, err := s.SaveBatch(tb.Context(), b, received)
	if err != nil {
		tb.Fatalf("SaveBatch(%s %v): %v", b.Kiosk, seqsOf(b), err)
	}
	return saved
}

func seqsOf(b protocol.Batch) []uint64 {
	var seqs []uint64
	for _, e := range b.Entries {
		seqs = append(seqs, e.Seq)
	}
	return seqs
}
