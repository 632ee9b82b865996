package records

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

func TestSaveBatchIdempotent(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		b := batch("gate-1", 1, 2, 3)
		got := mustSave(t, s, b, t0)
		if want := (Saved{Inserted: 3, Contiguous: 3, Highest: 3}); !reflect.DeepEqual(got, want) {
			t.Fatalf("first SaveBatch = %+v, want %+v", got, want)
		}
		got = mustSave(t, s, b, t0.Add(time.Minute))
		if want := (Saved{Duplicates: 3, Contiguous: 3, Highest: 3}); !reflect.DeepEqual(got, want) {
			t.Fatalf("second SaveBatch = %+v, want %+v", got, want)
		}
		// Overlapping: 2 and 3 held, 4 new.
		got = mustSave(t, s, batch("gate-1", 2, 3, 4), t0.Add(2*time.Minute))
		if want := (Saved{Inserted: 1, Duplicates: 2, Contiguous: 4, Highest: 4}); !reflect.DeepEqual(got, want) {
			t.Fatalf("overlapping SaveBatch = %+v, want %+v", got, want)
		}
		list, err := s.Entries(t.Context(), Query{Kiosk: "gate-1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 4 {
			t.Fatalf("Entries = %d rows, want 4", len(list))
		}
		// Received is when the entry was first stored, not re-sent.
		if !list[0].Received.Equal(t0) {
			t.Errorf("entry 1 received %v, want %v", list[0].Received, t0)
		}
		ks, err := s.Kiosks(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		// The fixture's batches are "sent" an hour after t0: a kiosk clock 58
		// minutes ahead at the last batch, flagged.
		want := []Kiosk{{Kiosk: "gate-1", Site: "site-1", Contiguous: 4, Highest: 4,
			LastSeen: t0.Add(2 * time.Minute), Batches: 3,
			SkewMS: -58 * 60 * 1000, ClockSkewed: true, Downlink: map[string]uint64{}}}
		if !reflect.DeepEqual(ks, want) {
			t.Errorf("Kiosks = %+v, want %+v", ks, want)
		}
	})
}

func TestSaveBatchConflictRefused(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		mustSave(t, s, batch("gate-1", 1, 2), t0)

		forged := batch("gate-1", 2, 3)
		forged.Entries[0].Decision = protocol.DecisionDeny
		forged.Entries[0].Reasons = []string{"revoked"}
		got := mustSave(t, s, forged, t0.Add(time.Minute))
		want := Saved{Inserted: 1, Conflicts: 1, ConflictSeqs: []uint64{2}, Contiguous: 3, Highest: 3}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("SaveBatch(conflicting) = %+v, want %+v", got, want)
		}
		list, err := s.Entries(t.Context(), Query{Kiosk: "gate-1", AfterSeq: 1, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].Decision != protocol.DecisionAllow || !reflect.DeepEqual(list[0].Reasons, []string{"temperature_normal"}) {
			t.Fatalf("held seq 2 = %+v, want the original (allow, temperature_normal)", list)
		}
		ks, err := s.Kiosks(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(ks) != 1 || ks[0].Conflicts != 1 {
			t.Errorf("Kiosks = %+v, want one kiosk with 1 conflict", ks)
		}
	})
}

// Two wire forms of the same entry differ in number and time formatting,
// key order and spacing: the canonical encoding makes them duplicates.
func TestSaveBatchFormattingIsNotConflict(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		wires := []string{
			`{"v":1,"kiosk":"gate-1","site":"site-1","sent":"2026-02-01T09:00:00Z","entries":[
			{"kiosk":"gate-1","seq":1,"id":"0190d6e4-7a4b-7cc0-8b8e-2f5c1f3e9a10","time":"2026-02-01T08:30:00Z",
			 "kind":"check","temperature":{"object_c":36.5,"screened_c":36.5},"decision":"allow","reasons":[]}]}`,
			`{"entries":[{"reasons":[],"decision":"allow","temperature":{"screened_c":36.50,"object_c":3.65e1},
			"kind":"check","time":"2026-02-01T08:30:00.000Z","id":"0190d6e4-7a4b-7cc0-8b8e-2f5c1f3e9a10",
			"seq":1,"kiosk":"gate-1"}],"sent":"2026-02-01T09:05:00Z","site":"site-1","kiosk":"gate-1","v":1}`,
		}
		for i, w := range wires {
			b, err := protocol.DecodeBatch([]byte(w))
			if err != nil {
				t.Fatalf("DecodeBatch(wire %d): %v", i, err)
			}
			got := mustSave(t, s, b, t0)
			if got.Conflicts != 0 || got.Inserted+got.Duplicates != 1 {
				t.Errorf("SaveBatch(wire %d) = %+v, want one inserted or duplicate", i, got)
			}
		}
	})
}

func TestSaveBatchOutOfOrder(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		steps := []struct {
			seqs           []uint64
			wantContiguous uint64
			wantGaps       []Range
		}{
			{[]uint64{3, 4}, 0, []Range{{1, 2}}},
			{[]uint64{7}, 0, []Range{{1, 2}, {5, 6}}},
			{[]uint64{1}, 1, []Range{{2, 2}, {5, 6}}},
			{[]uint64{2}, 4, []Range{{5, 6}}},
			{[]uint64{5, 6}, 7, []Range{}},
			{[]uint64{9, 10}, 7, []Range{{8, 8}}},
		}
		for _, st := range steps {
			got := mustSave(t, s, batch("gate-1", st.seqs...), t0)
			if got.Contiguous != st.wantContiguous {
				t.Errorf("after %v: SaveBatch contiguous = %d, want %d", st.seqs, got.Contiguous, st.wantContiguous)
			}
			c, err := s.Contiguous(t.Context(), "gate-1")
			if err != nil || c != st.wantContiguous {
				t.Errorf("after %v: Contiguous = %d, %v, want %d", st.seqs, c, err, st.wantContiguous)
			}
			gaps, err := s.Gaps(t.Context(), "gate-1")
			if err != nil || !reflect.DeepEqual(gaps, st.wantGaps) {
				t.Errorf("after %v: Gaps = %v, %v, want %v", st.seqs, gaps, err, st.wantGaps)
			}
		}
		ks, err := s.Kiosks(t.Context())
		if err != nil || len(ks) != 1 || ks[0].Highest != 10 {
			t.Errorf("Kiosks = %+v, %v, want highest 10", ks, err)
		}
	})
}

func TestSaveBatchKiosksAreSeparate(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		mustSave(t, s, batch("gate-1", 1, 2), t0)
		if got := mustSave(t, s, batch("gate-2", 2), t0); got.Contiguous != 0 || got.Inserted != 1 {
			t.Errorf("gate-2 SaveBatch = %+v, want 1 inserted, contiguous 0", got)
		}
		for kiosk, want := range map[string]uint64{"gate-1": 2, "gate-2": 0, "never": 0} {
			if got, err := s.Contiguous(t.Context(), kiosk); err != nil || got != want {
				t.Errorf("Contiguous(%q) = %d, %v, want %d", kiosk, got, err, want)
			}
		}
		if gaps, err := s.Gaps(t.Context(), "never"); err != nil || len(gaps) != 0 {
			t.Errorf("Gaps(never) = %v, %v, want none", gaps, err)
		}
		all, err := s.Entries(t.Context(), Query{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range all {
			got = append(got, fmt.Sprintf("%s/%d", e.Kiosk, e.Seq))
		}
		if want := []string{"gate-1/1", "gate-1/2", "gate-2/2"}; !reflect.DeepEqual(got, want) {
			t.Errorf("Entries(all) = %v, want %v", got, want)
		}
	})
}

func TestSaveBatchRefusesInvalid(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		mustSave(t, s, batch("gate-1", 1), t0)

		huge := batch("gate-1", math.MaxInt64+1)
		mixed := batch("gate-1", 2, 3)
		mixed.Entries[1].Kiosk = "gate-2"
		empty := batch("gate-1")
		for name, b := range map[string]protocol.Batch{"seq over int64": huge, "mixed kiosks": mixed, "empty": empty} {
			_, err := s.SaveBatch(t.Context(), b, t0)
			if !errors.Is(err, protocol.ErrInvalid) {
				t.Errorf("SaveBatch(%s) = %v, want an error wrapping protocol.ErrInvalid", name, err)
			}
		}
		list, err := s.Entries(t.Context(), Query{})
		if err != nil || len(list) != 1 {
			t.Errorf("after refused batches: %d entries, %v; want 1", len(list), err)
		}
		ks, err := s.Kiosks(t.Context())
		if err != nil || len(ks) != 1 || ks[0].Batches != 1 {
			t.Errorf("after refused batches: kiosks %+v, %v; want one batch counted", ks, err)
		}
	})
}

func TestLatestNewestReceivedFirst(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		mustSave(t, s, batch("gate-1", 3, 4), t0)
		mustSave(t, s, batch("gate-2", 1), t0.Add(time.Second))
		mustSave(t, s, batch("gate-1", 1, 2), t0.Add(2*time.Second))

		list, err := s.Latest(t.Context(), 4)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range list {
			got = append(got, e.Kiosk+"#"+e.ID[len(e.ID)-1:])
		}
		if want := []string{"gate-1#2", "gate-1#1", "gate-2#1", "gate-1#4"}; !reflect.DeepEqual(got, want) {
			t.Errorf("Latest(4) = %v, want %v", got, want)
		}
		if list[0].Site != "site-1" || list[0].Scan != "GP1:resident:2" || list[0].Temperature == nil {
			t.Errorf("Latest()[0] = %+v, want site, scan and temperature", list[0])
		}
		if _, err := s.Latest(t.Context(), 0); err == nil || !strings.Contains(err.Error(), "limit") {
			t.Errorf("Latest(0) = %v, want a limit error", err)
		}
	})
}
