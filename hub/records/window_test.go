package records

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/protocol"
)

// A batch reaching too far beyond what the hub holds for its kiosk is
// refused whole and stores nothing: one forged sequence of 2^63-1 once
// left a gap no kiosk could fill.
func TestSeqWindow(t *testing.T) {
	ctx := context.Background()
	onEngines(t, func(t *testing.T, s *SQLite) {
		s.SeqWindow = 10
		batch := func(seqs ...uint64) protocol.Batch {
			b := protocol.Batch{Kiosk: "gate-1", Site: "huamu-001", Sent: t0}
			for _, q := range seqs {
				b.Entries = append(b.Entries, entry("gate-1", q))
			}
			return b
		}
		if _, err := s.SaveBatch(ctx, batch(11), t0); !errors.Is(err, protocol.ErrInvalid) || !strings.Contains(err.Error(), "beyond the highest held (0)") {
			t.Fatalf("seq 11 for a kiosk holding nothing, window 10: %v, want refused", err)
		}
		if saved, err := s.SaveBatch(ctx, batch(1, 2, 3, 10), t0); err != nil || saved.Inserted != 4 {
			t.Fatalf("seqs within the window: %+v, %v", saved, err)
		}
		if _, err := s.SaveBatch(ctx, batch(4, 21), t0); !errors.Is(err, protocol.ErrInvalid) || !errors.Is(err, ErrSeqWindow) {
			t.Fatalf("a batch with one seq 11 beyond the highest (10): %v, want refused as ErrSeqWindow and ErrInvalid", err)
		}
		if _, err := s.SaveBatch(ctx, batch(0), t0); err == nil || errors.Is(err, ErrSeqWindow) {
			t.Fatalf("a batch invalid for another reason (seq 0): %v, must not be ErrSeqWindow", err)
		}
		if list, err := s.Entries(ctx, Query{Kiosk: "gate-1", Limit: 100}); err != nil || len(list) != 4 {
			t.Fatalf("entries held = %d, %v; want the 4 first, nothing of the refused batch", len(list), err)
		}
		if saved, err := s.SaveBatch(ctx, batch(20), t0); err != nil || saved.Inserted != 1 {
			t.Fatalf("seq 20, 10 beyond the highest: %+v, %v", saved, err)
		}
		s.SeqWindow = 0 // the default
		if _, err := s.SaveBatch(ctx, batch(math.MaxInt64), t0); !errors.Is(err, protocol.ErrInvalid) {
			t.Fatalf("seq 2^63-1 with the default window: %v, want refused", err)
		}
		if _, err := s.SaveBatch(ctx, batch(20+DefaultSeqWindow), t0); err != nil {
			t.Fatalf("seq at the default window's edge: %v", err)
		}
	})
}
