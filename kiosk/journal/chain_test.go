package journal

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

// TestAppendChainsTheSharedVectors: the journal gives the vector entries
// the prev and hash protocol/testdata/chain.json names, whether appended
// one by one or together, and the chain survives a reopen.
func TestAppendChainsTheSharedVectors(t *testing.T) {
	ctx := context.Background()
	for _, v := range protocoltest.ChainVectors(t) {
		if v.Entries[0].Seq != 1 {
			continue // the journal numbers from 1
		}
		for _, many := range []bool{false, true} {
			path := filepath.Join(t.TempDir(), "journal.db")
			j, err := Open(path, v.Entries[0].Kiosk)
			if err != nil {
				t.Fatal(err)
			}
			in := make([]protocol.Entry, len(v.Entries))
			for i, e := range v.Entries {
				e.Prev, e.Seq = "", 0
				in[i] = e
			}
			var out []protocol.Entry
			if many {
				out, err = j.AppendMany(ctx, in)
			} else {
				for _, e := range in {
					var got protocol.Entry
					if got, err = j.Append(ctx, e); err != nil {
						break
					}
					out = append(out, got)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range out {
				if e.Prev != v.Entries[i].Prev {
					t.Errorf("%s (many %v): entry %d prev = %s, want %s", v.Name, many, i, e.Prev, v.Entries[i].Prev)
				}
				h, ok, err := j.EntryHashAt(ctx, e.Seq)
				if err != nil || !ok || h != v.Hashes[i] {
					t.Errorf("%s: stored hash of %d = %x %v %v, want %x", v.Name, e.Seq, h, ok, err, v.Hashes[i])
				}
			}
			j.Close()
			j, err = Open(path, v.Entries[0].Kiosk)
			if err != nil {
				t.Fatal(err)
			}
			if head, err := j.Head(ctx); err != nil || head != v.Hashes[len(v.Hashes)-1] {
				t.Errorf("%s: Head after reopen = %x, %v, want the last vector hash", v.Name, head, err)
			}
			unsent, err := j.Unsent(ctx, 0, 100)
			if err != nil || len(unsent) != len(v.Entries) || unsent[1].Prev != v.Entries[1].Prev {
				t.Errorf("%s: Unsent does not carry the prevs: %v", v.Name, err)
			}
			j.Close()
		}
	}
}

// TestRebaseStartsANewChainFromTheHubsHead: after a rebase the first
// entry names the hub's head, each later one the entry before it, and new
// appends continue the chain.
func TestRebaseStartsANewChainFromTheHubsHead(t *testing.T) {
	j, _ := openTemp(t)
	ctx := context.Background()
	appendN(t, j, 3)
	hubHead := [32]byte{7, 7, 7}
	if _, err := j.Rebase(ctx, "0190d6e4-7a4b-7cc0-8b8e-00000000000a", 40, hubHead); err != nil {
		t.Fatal(err)
	}
	e, err := j.Append(ctx, protocoltest.Entry(protocoltest.Scan("after")))
	if err != nil {
		t.Fatal(err)
	}
	es, err := j.Unsent(ctx, 40, 10)
	if err != nil || len(es) != 4 {
		t.Fatalf("Unsent after the rebase = %d entries, %v", len(es), err)
	}
	prev := hubHead
	for _, got := range es {
		if got.Prev != protocol.HashText(prev) {
			t.Fatalf("entry %d prev = %s, want %s", got.Seq, got.Prev, protocol.HashText(prev))
		}
		stored, ok, err := j.EntryHashAt(ctx, got.Seq)
		if want := protocol.EntryHash(prev, got); err != nil || !ok || stored != want {
			t.Fatalf("entry %d stored hash = %x, want %x", got.Seq, stored, want)
		}
		prev = stored
	}
	if es[3].ID != e.ID {
		t.Fatalf("last entry is %s, want the one appended after the rebase", es[3].ID)
	}
}

// TestStoredLinks: the uplink's signature is made from what UnsentEncoded
// returns (Encoded.Link): each link is the one the hub computes from the
// entry sent. With NoChain (the cost benchmark's baseline) entries carry
// no prev and no stored hash.
func TestStoredLinks(t *testing.T) {
	for _, noChain := range []bool{false, true} {
		j, err := OpenWith(filepath.Join(t.TempDir(), "j.db"), "gate-1", Options{NoChain: noChain})
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		for range 3 {
			if _, err := j.Append(t.Context(), protocoltest.Entry()); err != nil {
				t.Fatal(err)
			}
		}
		stored, err := j.UnsentEncoded(t.Context(), 0, 10)
		if err != nil || len(stored) != 3 {
			t.Fatalf("UnsentEncoded = %d, %v", len(stored), err)
		}
		for _, s := range stored {
			e, err := protocol.DecodeEntry(s.Body)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := protocol.ChainLinks([]protocol.Entry{e})
			want[0].Personal = [32]byte{} // the hub's to keep; a journal's link has none
			got, err := s.Link()
			if err != nil || got != want[0] {
				t.Errorf("NoChain %v: Link of %d = %+v, %v; want %+v", noChain, s.Seq, got, err, want[0])
			}
			if noChain != (e.Prev == "" && s.Hash == nil) {
				t.Errorf("NoChain %v: entry %d has prev %q, stored hash %x", noChain, s.Seq, e.Prev, s.Hash)
			}
		}
	}
}
