package records

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

const (
	journalA = "0190d6e4-7a4b-7cc0-8b8e-00000000000a"
	journalB = "0190d6e4-7a4b-7cc0-8b8e-00000000000b"
)

func named(b protocol.Batch, journal string) protocol.Batch {
	b.Journal = journal
	return b
}

// replacement is a batch from a new journal of kiosk: seqs from 1 again,
// with ids of its own.
func replacement(kiosk, journal string, seqs ...uint64) protocol.Batch {
	b := named(batch(kiosk, seqs...), journal)
	for i := range b.Entries {
		b.Entries[i].ID = b.Entries[i].ID[:len(b.Entries[i].ID)-3] + "bbb"
	}
	return b
}

func TestSaveBatchAdoptsTheFirstJournal(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		got := mustSave(t, s, named(batch("gate-1", 1, 2), journalA), t0)
		if want := (Saved{Inserted: 2, Contiguous: 2, Highest: 2, Journal: journalA}); !reflect.DeepEqual(got, want) {
			t.Fatalf("first named SaveBatch = %+v, want %+v", got, want)
		}
		got = mustSave(t, s, named(batch("gate-1", 3), journalA), t0)
		if want := (Saved{Inserted: 1, Contiguous: 3, Highest: 3, Journal: journalA}); !reflect.DeepEqual(got, want) {
			t.Fatalf("same journal again = %+v, want %+v", got, want)
		}
		// A kiosk from before journal ids is taken as before.
		got = mustSave(t, s, batch("gate-1", 4), t0)
		if want := (Saved{Inserted: 1, Contiguous: 4, Highest: 4, Journal: journalA}); !reflect.DeepEqual(got, want) {
			t.Fatalf("unnamed batch = %+v, want %+v", got, want)
		}
		ks, err := s.Kiosks(t.Context())
		if err != nil || len(ks) != 1 || ks[0].Journal != journalA {
			t.Fatalf("Kiosks = %+v, %v; want gate-1 holding journal %s", ks, err, journalA)
		}
	})
}

func TestSaveBatchOfAReplacedJournalStoresNothing(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		mustSave(t, s, named(batch("gate-1", span(1, 812)...), journalA), t0)
		// The new journal numbers from 1 again; its 1..3 collide with the
		// held ones and 813 does not, and none of them may be stored.
		for _, seqs := range [][]uint64{{1, 2, 3}, {812, 813}, {900}} {
			got := mustSave(t, s, replacement("gate-1", journalB, seqs...), t0.Add(time.Minute))
			want := Saved{Replaced: true, Journal: journalA, Contiguous: 812, Highest: 812}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("SaveBatch(journal B %v) = %+v, want %+v", seqs, got, want)
			}
		}
		es, err := s.Entries(t.Context(), Query{Kiosk: "gate-1", Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 812 {
			t.Errorf("hub holds %d entries, want the 812 of journal A", len(es))
		}
		ks, _ := s.Kiosks(t.Context())
		if len(ks) != 1 || ks[0].Conflicts != 0 || ks[0].Journal != journalA {
			t.Errorf("Kiosks = %+v, want no conflicts counted, journal A kept", ks)
		}
		// After renumbering (813.. from journal A's id) the entries go in.
		renumbered := named(batch("gate-1", 813, 814), journalA)
		if got := mustSave(t, s, renumbered, t0); got.Inserted != 2 || got.Contiguous != 814 || got.Replaced {
			t.Errorf("renumbered SaveBatch = %+v, want 2 inserted, contiguous 814", got)
		}
	})
}

func TestSaveBatchReportsGapsOfTheHeldJournal(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		mustSave(t, s, named(batch("gate-1", 1, 2, 5), journalA), t0)
		got := mustSave(t, s, replacement("gate-1", journalB, 1), t0)
		if want := (Saved{Replaced: true, Journal: journalA, Contiguous: 2, Highest: 5}); !reflect.DeepEqual(got, want) {
			t.Fatalf("SaveBatch(journal B) = %+v, want %+v", got, want)
		}
	})
}

// TestSaveBatchNamesUnnamedEntriesOfAReplacedJournal: the hub holds
// entries from before journal ids; the first named batch conflicts with
// them, so it is from a new journal: nothing is stored, and the held
// entries get a journal id of their own for the kiosk to rebase on.
func TestSaveBatchNamesUnnamedEntriesOfAReplacedJournal(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		mustSave(t, s, batch("gate-1", 1, 2, 3), t0)
		got := mustSave(t, s, replacement("gate-1", journalB, 1, 2, 3, 4), t0)
		if !got.Replaced || got.Journal == "" || got.Journal == journalB || got.Contiguous != 3 || got.Highest != 3 || got.Inserted != 0 {
			t.Fatalf("SaveBatch(new journal over unnamed entries) = %+v, want replaced, a new id for the held entries, 3/3", got)
		}
		es, _ := s.Entries(t.Context(), Query{Kiosk: "gate-1"})
		if len(es) != 3 {
			t.Errorf("hub holds %d entries, want 3 (seq 4 of the new journal not stored)", len(es))
		}
		again := mustSave(t, s, replacement("gate-1", journalB, 1), t0)
		if !again.Replaced || again.Journal != got.Journal {
			t.Errorf("SaveBatch(journal B) again = %+v, want replaced by %s", again, got.Journal)
		}
		ks, _ := s.Kiosks(t.Context())
		if len(ks) != 1 || ks[0].Conflicts != 0 {
			t.Errorf("Kiosks = %+v, want no conflicts counted", ks)
		}
		// The same journal continuing (no conflicts) is adopted instead.
		s2 := sibling(t, s)
		mustSave(t, s2, batch("gate-1", 1, 2), t0)
		if got := mustSave(t, s2, named(batch("gate-1", 2, 3), journalA), t0); got.Replaced || got.Journal != journalA || got.Contiguous != 3 {
			t.Errorf("SaveBatch(continuing journal over unnamed entries) = %+v, want adopted, contiguous 3", got)
		}
	})
}

func TestImportBundleFromAnotherJournalRefused(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		mustSave(t, s, named(batch("gate-1", 1, 2), journalA), t0)
		b := replacement("gate-1", journalB, 3, 4)
		bundle := protocol.Bundle{Kiosk: "gate-1", Site: "site-1", Journal: journalB, Exported: t0, Entries: b.Entries}
		data, err := protocol.EncodeBundle(bundle)
		if err != nil {
			t.Fatal(err)
		}
		if bundle, err = protocol.DecodeBundle(data); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ImportBundle(t.Context(), bundle); !errors.Is(err, ErrOtherJournal) {
			t.Fatalf("ImportBundle(journal B) = %v, want ErrOtherJournal", err)
		}
		es, _ := s.Entries(t.Context(), Query{Kiosk: "gate-1"})
		ks, _ := s.Kiosks(t.Context())
		if len(es) != 2 || len(ks) != 1 || ks[0].Contiguous != 2 || ks[0].Journal != journalA {
			t.Errorf("after a refused import: %d entries, %+v; want 2, journal A, contiguous 2", len(es), ks)
		}
		bundle.Journal = journalA
		bundle.SHA256, _ = protocol.BundleChecksum(bundle.Entries)
		if got, err := s.ImportBundle(t.Context(), bundle); err != nil || got.Inserted != 2 || got.Contiguous != 4 {
			t.Errorf("ImportBundle(journal A) = %+v, %v; want 2 inserted, contiguous 4", got, err)
		}
	})
}
