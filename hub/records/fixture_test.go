package records

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = protocoltest.T0

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
	return protocoltest.Entry(protocoltest.Kiosk(kiosk), protocoltest.Seq(seq), protocoltest.Scan(fmt.Sprintf("GP1:resident:%d", seq)))
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
	// The head is checked by the chain's own tests (chain_test.go).
	saved.Head, saved.HasHead = [32]byte{}, false
	return saved
}

func seqsOf(b protocol.Batch) []uint64 {
	var seqs []uint64
	for _, e := range b.Entries {
		seqs = append(seqs, e.Seq)
	}
	return seqs
}
