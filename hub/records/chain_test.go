package records

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

// chained returns entries 1..n of kiosk, each naming the hash of the one
// before, as a kiosk's journal writes them.
func chained(kiosk string, n uint64) []protocol.Entry {
	var es []protocol.Entry
	prev := protocol.Genesis
	for seq := uint64(1); seq <= n; seq++ {
		e := entry(kiosk, seq)
		if seq%3 == 0 {
			e.Kind = protocol.KindVisitor
			e.Scan = ""
			e.Visitor = &protocol.Visitor{Name: "Li", Contact: "138", From: "Pudong", Visiting: "3-201", Purpose: "visit"}
		}
		e.Prev = protocol.HashText(prev)
		prev = protocol.EntryHash(prev, e)
		es = append(es, e)
	}
	return es
}

func batchOf(es ...protocol.Entry) protocol.Batch {
	return protocol.Batch{Kiosk: es[0].Kiosk, Site: "site-1", Sent: t0.Add(time.Hour), Entries: es}
}

func storedHash(t *testing.T, s *SQLite, kiosk string, seq uint64) []byte {
	t.Helper()
	var h []byte
	if err := s.read.QueryRow(t.Context(), `SELECT hash FROM entries WHERE kiosk = ? AND seq = ?`, kiosk, seq).Scan(&h); err != nil {
		t.Fatalf("read hash of %d: %v", seq, err)
	}
	return h
}

// TestSaveBatchStoresTheSharedVectorHashes: the hub computes the hashes of
// protocol/testdata/chain.json, and its ack head is the last of them.
func TestSaveBatchStoresTheSharedVectorHashes(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		for _, v := range protocoltest.ChainVectors(t) {
			if v.Entries[0].Seq != 1 {
				continue
			}
			saved, err := s.SaveBatch(t.Context(), batchOf(v.Entries...), t0)
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range v.Entries {
				if got := storedHash(t, s, e.Kiosk, e.Seq); string(got) != string(v.Hashes[i][:]) {
					t.Errorf("%s: stored hash of %d = %x, want %x", v.Name, e.Seq, got, v.Hashes[i])
				}
			}
			if !saved.HasHead || saved.Head != v.Hashes[len(v.Hashes)-1] {
				t.Errorf("%s: Saved.Head = %x (%v), want the last vector hash", v.Name, saved.Head, saved.HasHead)
			}
		}
	})
}

// TestSaveBatchRefusesABrokenChain: a batch whose chain does not continue
// what the hub holds, on either side of a gap, is refused whole with
// ErrChain and nothing held changes; entries that arrive out of order
// are taken.
func TestSaveBatchRefusesABrokenChain(t *testing.T) {
	t.Parallel()
	es := chained("gate-1", 8)
	forged := func(seq uint64, edit func(*protocol.Entry)) protocol.Entry {
		e := es[seq-1]
		edit(&e)
		return e
	}
	cases := []struct {
		name string
		held [][]uint64 // batches saved first
		bad  protocol.Batch
	}{
		{"prev is not the held entry before", [][]uint64{{1, 2, 3}},
			batchOf(forged(4, func(e *protocol.Entry) { e.Prev = protocol.HashText([32]byte{1}) }))},
		{"first entry does not start from genesis", nil,
			batchOf(forged(1, func(e *protocol.Entry) { e.Prev = protocol.HashText([32]byte{1}) }))},
		{"the held entry after names another hash", [][]uint64{{1, 2}, {5, 6}},
			batchOf(es[2], forged(4, func(e *protocol.Entry) { e.Decision = protocol.DecisionDeny }))},
		{"links inside the batch", [][]uint64{{1}},
			batchOf(es[1], forged(3, func(e *protocol.Entry) { e.Prev = es[1].Prev }))},
		{"an unchained entry before a chained one", [][]uint64{{1, 2, 3, 5}},
			batchOf(forged(4, func(e *protocol.Entry) { e.Prev = "" }))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			onEngines(t, func(t *testing.T, s *SQLite) {
				for _, seqs := range c.held {
					var b []protocol.Entry
					for _, seq := range seqs {
						b = append(b, es[seq-1])
					}
					mustSave(t, s, batchOf(b...), t0)
				}
				before, err := s.Verify(t.Context(), "")
				if err != nil {
					t.Fatal(err)
				}
				_, err = s.SaveBatch(t.Context(), c.bad, t0.Add(time.Minute))
				if !errors.Is(err, ErrChain) || !errors.Is(err, protocol.ErrInvalid) {
					t.Fatalf("SaveBatch = %v, want ErrChain", err)
				}
				after, err := s.Verify(t.Context(), "")
				if err != nil || after.Entries != before.Entries || len(after.Findings) != 0 {
					t.Fatalf("after the refusal: %d entries (was %d), findings %+v, %v", after.Entries, before.Entries, after.Findings, err)
				}
			})
		})
	}
	t.Run("out of order", func(t *testing.T) {
		t.Parallel()
		onEngines(t, func(t *testing.T, s *SQLite) {
			for _, b := range [][]protocol.Entry{es[4:6], es[0:2], es[7:8], es[2:4], es[6:7]} {
				mustSave(t, s, batchOf(b...), t0)
			}
			v, err := s.Verify(t.Context(), "gate-1")
			if err != nil || v.Entries != 8 || len(v.Findings) != 0 {
				t.Fatalf("Verify = %+v, %v; want 8 entries, no findings", v, err)
			}
		})
	})
}

// TestVerifyNamesEachTamperedEntry edits, deletes and inserts rows behind
// the hub's back; Verify names each, and nothing else.
func TestVerifyNamesEachTamperedEntry(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		mustSave(t, s, batchOf(chained("gate-1", 9)...), t0)
		mustSave(t, s, batchOf(chained("gate-2", 3)...), t0)
		clean, err := s.Verify(t.Context(), "")
		if err != nil || clean.Entries != 12 || clean.Kiosks != 2 || len(clean.Findings) != 0 {
			t.Fatalf("Verify of unedited storage = %+v, %v", clean, err)
		}
		for _, q := range []string{
			`UPDATE entries SET body = ` + jsonSet(s, "decision", `"deny"`) + `, decision = 'deny' WHERE kiosk = 'gate-1' AND seq = 2`,
			`UPDATE entries SET unit = '9-909' WHERE kiosk = 'gate-1' AND seq = 3`,
			`DELETE FROM entries WHERE kiosk = 'gate-1' AND seq IN (5, 6)`,
			`INSERT INTO entries (kiosk, seq, site, id, time, kind, decision, body, received_at, hash, prev, personal)
			SELECT kiosk, 10, site, id, time, kind, decision, ` + jsonSet(s, "seq", "10") + `, received_at, hash, prev, personal
			FROM entries WHERE kiosk = 'gate-1' AND seq = 9`,
		} {
			if _, err := s.write.Exec(t.Context(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		v, err := s.Verify(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, f := range v.Findings {
			got[fmt.Sprintf("%s %d-%d %s", f.Kiosk, f.Seq, f.Last, f.Problem)] = true
		}
		want := map[string]bool{
			"gate-1 2-0 altered": true, "gate-1 3-0 altered": true, "gate-1 5-6 deleted": true, "gate-1 10-0 inserted": true,
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("findings = %v (%+v), want %v", got, v.Findings, want)
		}
		if only, err := s.Verify(t.Context(), "gate-2"); err != nil || len(only.Findings) != 0 || only.Entries != 3 {
			t.Fatalf("Verify(gate-2) = %+v, %v", only, err)
		}
		if _, err := s.Verify(t.Context(), "gate-9"); err == nil {
			t.Fatal("Verify of a kiosk the hub never heard of succeeded")
		}
	})
}

// TestPurgeKeepsTheChain: a purge removes the personal fields and keeps
// the hash, so verification passes; personal details put back into a
// purged entry are found.
func TestPurgeKeepsTheChain(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		mustSave(t, s, batchOf(chained("gate-1", 9)...), t0)
		for _, kind := range PurgeKinds {
			if n, err := s.Purge(t.Context(), kind, t0.Add(time.Hour), false); err != nil || n == 0 {
				t.Fatalf("Purge(%s) = %d, %v", kind, n, err)
			}
		}
		v, err := s.Verify(t.Context(), "")
		if err != nil || v.Purged != 9 || len(v.Findings) != 0 {
			t.Fatalf("Verify after purge = %+v, %v; want 9 purged, no findings", v, err)
		}
		if _, err := s.write.Exec(t.Context(), `UPDATE entries SET body = `+jsonSet(s, "visitor.name", `"Zhang"`)+` WHERE seq = 3`); err != nil {
			t.Fatal(err)
		}
		v, err = s.Verify(t.Context(), "")
		if err != nil || len(v.Findings) != 1 || v.Findings[0].Seq != 3 || v.Findings[0].Problem != FindingAltered {
			t.Fatalf("Verify after a name was put back = %+v, %v", v.Findings, err)
		}
	})
}

// BenchmarkVerify walks 100,000 chained entries of one kiosk (with
// -benchtime=1x the time is one walk) and reports entries per second.
// `hub verify` of a million entries takes about ten times one run.
func BenchmarkVerify(b *testing.B) {
	s, _ := openStore(b)
	const n, per = 100_000, 1000
	es := chained("gate-1", n)
	for i := 0; i < n; i += per {
		if _, err := s.SaveBatch(b.Context(), batchOf(es[i:i+per]...), t0); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	runs := 0
	for b.Loop() {
		v, err := s.Verify(b.Context(), "")
		if err != nil || v.Entries != n || len(v.Findings) != 0 {
			b.Fatalf("Verify = %d entries, %d findings, %v", v.Entries, len(v.Findings), err)
		}
		runs++
	}
	b.ReportMetric(float64(n*runs)/time.Since(start).Seconds(), "entries/s")
}

// TestImportRefusesAnEditedBundle: a bundle with one temperature changed
// and its checksum recomputed (EncodeBundle recomputes it) is refused
// whole, even across chunks; the true bundle imports and verifies.
func TestImportRefusesAnEditedBundle(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		es := chained("gate-1", protocol.MaxBatchEntries+20)
		bundleOf := func(es []protocol.Entry) protocol.Bundle {
			data, err := protocol.EncodeBundle(protocol.Bundle{Kiosk: "gate-1", Site: "site-1", Exported: t0, Entries: es})
			if err != nil {
				t.Fatal(err)
			}
			b, err := protocol.DecodeBundle(data)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		edited := append([]protocol.Entry(nil), es...)
		i := protocol.MaxBatchEntries + 10 // in the second chunk
		r := *edited[i].Temperature
		r.ScreenedC = 36.4
		edited[i].Temperature = &r
		if _, err := s.ImportBundle(t.Context(), bundleOf(edited)); !errors.Is(err, ErrChain) {
			t.Fatalf("ImportBundle(edited) = %v, want ErrChain", err)
		}
		if v, err := s.Verify(t.Context(), ""); err != nil || v.Entries != 0 {
			t.Fatalf("after the refused import the hub holds %d entries, %v; want none", v.Entries, err)
		}
		if _, err := s.ImportBundle(t.Context(), bundleOf(es)); err != nil {
			t.Fatalf("ImportBundle(true) = %v", err)
		}
		if v, err := s.Verify(t.Context(), ""); err != nil || v.Entries != len(es) || len(v.Findings) != 0 {
			t.Fatalf("Verify after the import = %d entries, %+v, %v", v.Entries, v.Findings, err)
		}
	})
}

// TestChainStartsAfterUnchainedEntries: a kiosk updated to chain, whose
// journal no longer holds the entry before its first chained one, starts
// its chain after the hub's unchained entries; once chained, an entry
// without prev is refused.
func TestChainStartsAfterUnchainedEntries(t *testing.T) {
	t.Parallel()
	onEngines(t, func(t *testing.T, s *SQLite) {
		mustSave(t, s, batch("gate-1", 1, 2, 3), t0) // from before the chain
		first := entry("gate-1", 4)
		first.Prev = protocol.HashText(protocol.Genesis) // its journal's head was lost with the purged entries
		next := entry("gate-1", 5)
		next.Prev = protocol.HashText(protocol.EntryHash(protocol.Genesis, first))
		mustSave(t, s, batchOf(first, next), t0)
		if v, err := s.Verify(t.Context(), ""); err != nil || len(v.Findings) != 0 || v.Entries != 5 {
			t.Fatalf("Verify = %+v, %v; want 5 entries, no findings", v, err)
		}
		if _, err := s.SaveBatch(t.Context(), batch("gate-1", 6), t0); !errors.Is(err, ErrChain) {
			t.Fatalf("SaveBatch(an unchained entry after chained ones) = %v, want ErrChain", err)
		}
	})
}

// The links ingest computed while checking a batch's signature
// (Batch.Links) are stored as they are, without hashing the entries again,
// and give the same hashes; links that do not match the entries one for
// one are ignored and the hashes computed.
func TestSaveBatchTakesTheLinksIngestComputed(t *testing.T) {
	t.Parallel()
	es := chained("gate-1", 6)
	links, err := protocol.ChainLinks(es)
	if err != nil {
		t.Fatal(err)
	}

	onEngines(t, func(t *testing.T, withLinks *SQLite) {
		// The same hashes with and without the links.
		b := batchOf(es...)
		b.Links = links
		if _, err := withLinks.SaveBatch(t.Context(), b, t0); err != nil {
			t.Fatal(err)
		}
		for _, l := range links {
			if got := storedHash(t, withLinks, "gate-1", l.Seq); string(got) != string(l.Hash[:]) {
				t.Errorf("stored hash of %d = %x, want %x", l.Seq, got, l.Hash)
			}
		}

		// The links are what is stored: a hash changed in them is the hash kept
		// (only the hub's own ingest sets Links, after verifying them against
		// the kiosk's signature; nothing decoded from the wire does).
		taken := sibling(t, withLinks)
		marked := append([]protocol.ChainLink(nil), links...)
		marked[5].Hash[0] ^= 0xff
		b = batchOf(es...)
		b.Links = marked
		if _, err := taken.SaveBatch(t.Context(), b, t0); err != nil {
			t.Fatal(err)
		}
		if got := storedHash(t, taken, "gate-1", 6); string(got) != string(marked[5].Hash[:]) {
			t.Errorf("stored hash of 6 = %x, want the given link's %x: the links were not taken", got, marked[5].Hash)
		}

		// Links that do not fit the entries are not used.
		for name, bad := range map[string][]protocol.ChainLink{
			"one short":   links[:5],
			"another seq": func() []protocol.ChainLink { l := append([]protocol.ChainLink(nil), links...); l[2].Seq = 9; return l }(),
			"another prev": func() []protocol.ChainLink {
				l := append([]protocol.ChainLink(nil), links...)
				l[3].Prev[0] ^= 1
				return l
			}(),
			"no personal": func() []protocol.ChainLink {
				l := append([]protocol.ChainLink(nil), links...)
				l[4].Personal = [32]byte{}
				return l
			}(),
		} {
			s := sibling(t, withLinks)
			b := batchOf(es...)
			b.Links = append([]protocol.ChainLink(nil), bad...)
			for i := range b.Links {
				b.Links[i].Hash[1] ^= 0xff // a wrong hash: stored only if the links were used
			}
			if _, err := s.SaveBatch(t.Context(), b, t0); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, l := range links {
				if got := storedHash(t, s, "gate-1", l.Seq); string(got) != string(l.Hash[:]) {
					t.Errorf("%s: stored hash of %d = %x, want the computed %x", name, l.Seq, got, l.Hash)
				}
			}
		}
	})
}
