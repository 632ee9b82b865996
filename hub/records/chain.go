package records

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/gatepost/gatepost/protocol"
)

// ErrChain is wrapped by SaveBatch's and ImportBundle's error for entries
// whose chain does not continue what the hub holds: an entry's prev is not
// the hash of the held entry before it, or the held entry after it names
// another hash than the entry's. Nothing of the batch is stored. The
// error wraps protocol.ErrInvalid too.
var ErrChain = errors.New("chain")

// withoutChain is the context key of WithoutChain.
type withoutChain struct{}

// WithoutChain returns ctx with the chain turned off for the batches
// saved under it: no hash computed, stored or checked. It exists for the
// benchmark of what the chain costs (bench -only chaincost) alone; a hub
// never uses it.
func WithoutChain(ctx context.Context) context.Context {
	return context.WithValue(ctx, withoutChain{}, true)
}

// linksFor is chainLinks(b), or zero links and off when ctx turned the
// chain off.
func linksFor(ctx context.Context, b protocol.Batch) (links []link, off bool) {
	if ctx.Value(withoutChain{}) != nil {
		return make([]link, len(b.Entries)), true
	}
	return chainLinks(b), false
}

// link is what the hub computes of one entry of a batch for the chain.
type link struct {
	hash     [32]byte
	prev     []byte // nil: the entry carries no prev (a kiosk that predates the chain)
	personal [32]byte
}

// chainLinks computes the links of b's entries (b validated), or takes
// them from b.Links where ingest computed them while it checked the
// kiosk's signature (protocol.VerifyBatchLinks) and they match the
// entries one for one.
func chainLinks(b protocol.Batch) []link {
	links := make([]link, len(b.Entries))
	given := givenLinks(b)
	for i, e := range b.Entries {
		prev, chained, _ := protocol.PrevHash(e) // Validate checked its form
		var l link
		if given {
			l.personal, l.hash = b.Links[i].Personal, b.Links[i].Hash
		} else {
			l.personal = protocol.PersonalDigest(e)
			l.hash = protocol.EntryHashWith(prev, l.personal, e)
		}
		if chained {
			l.prev = prev[:]
		}
		links[i] = l
	}
	return links
}

// givenLinks reports whether b.Links were computed for b's entries: one
// per entry, in order, each following the prev the entry names, with its
// personal digest (links from a journal's stored hashes carry none).
func givenLinks(b protocol.Batch) bool {
	if len(b.Links) != len(b.Entries) {
		return false
	}
	for i, e := range b.Entries {
		l := b.Links[i]
		prev, _, _ := protocol.PrevHash(e)
		if l.Seq != e.Seq || l.Prev != prev || l.Personal == ([32]byte{}) {
			return false
		}
	}
	return true
}

// checkChain checks, after the batch's new entries were inserted in tx,
// that each inserted entry links with the held entries beside it: its prev
// is the hash of the entry before (Genesis for sequence 1), and the entry
// after names its hash. Gaps are allowed: a link is checked whenever both
// of its ends are held. Neighbours inside the batch are compared in
// memory, and so are the held entries around reads (readAround: the
// batch's range and one on each side); others are read, which only a
// batch with gaps needs.
func checkChain(ctx context.Context, tx querier, b protocol.Batch, links []link, inserted []bool, around heldAround) error {
	for i, e := range b.Entries {
		if !inserted[i] {
			continue
		}
		l := links[i]
		if l.prev == nil && e.Seq > 1 {
			if err := checkUnchained(ctx, tx, b, links, inserted, i, around); err != nil {
				return err
			}
		}
		if l.prev != nil {
			// An entry after one without prev starts the chain (a kiosk
			// updated to chain, whose journal no longer holds the entry
			// before): there is no link to check.
			var want []byte
			switch {
			case e.Seq == 1:
				want = protocol.Genesis[:]
			case i > 0 && inserted[i-1] && b.Entries[i-1].Seq == e.Seq-1:
				if links[i-1].prev != nil {
					want = links[i-1].hash[:]
				}
			default:
				h, err := around.chainedHash(ctx, tx, e.Kiosk, e.Seq-1)
				if err != nil {
					return err
				}
				want = h
			}
			if want != nil && !bytes.Equal(want, l.prev) {
				return chainError(i, e, fmt.Sprintf("names %s as the entry before it, but the hub holds %s at %d: "+
					"the kiosk's journal was altered or replaced, or someone forges its entries",
					short(l.prev), short(want), e.Seq-1))
			}
		}
		if i+1 < len(b.Entries) && inserted[i+1] && b.Entries[i+1].Seq == e.Seq+1 {
			continue // the next entry checks this link as its own
		}
		next, err := around.prev(ctx, tx, e.Kiosk, e.Seq+1)
		if err != nil {
			return err
		}
		if next != nil && !bytes.Equal(next, l.hash[:]) {
			return chainError(i, e, fmt.Sprintf("hashes to %s, but the entry the hub holds at %d names %s before it: "+
				"the kiosk's journal was altered or replaced, or someone forges its entries",
				short(l.hash[:]), e.Seq+1, short(next)))
		}
	}
	return nil
}

// checkUnchained refuses entry i, which carries no prev, when the entry
// before it did: a kiosk that chains never stops, so an entry without
// prev after a chained one was not written by the kiosk's journal.
func checkUnchained(ctx context.Context, tx querier, b protocol.Batch, links []link, inserted []bool, i int,
	around heldAround) error {
	e := b.Entries[i]
	chainedBefore := false
	if i > 0 && inserted[i-1] && b.Entries[i-1].Seq == e.Seq-1 {
		chainedBefore = links[i-1].prev != nil
	} else {
		h, err := around.chainedHash(ctx, tx, e.Kiosk, e.Seq-1)
		if err != nil {
			return err
		}
		chainedBefore = h != nil
	}
	if chainedBefore {
		return chainError(i, e, fmt.Sprintf("carries no prev, but the entry before it (%d) did: a kiosk that chains "+
			"its entries never stops, so this one was not written by its journal", e.Seq-1))
	}
	return nil
}

// heldChainedHash reads the hash of the held entry (kiosk, seq) if it
// carried a prev; nil when the hub holds no such entry, or one from
// before the chain.
func heldChainedHash(ctx context.Context, tx querier, kiosk string, seq uint64) ([]byte, error) {
	var h []byte
	err := tx.QueryRowContext(ctx, `SELECT hash FROM entries WHERE kiosk = ? AND seq = ? AND prev IS NOT NULL`,
		kiosk, int64(seq)).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read held hash of %d: %w", seq, err)
	}
	return h, nil
}

// chainedHash is heldChainedHash, from what around read when it covers seq.
func (h heldAround) chainedHash(ctx context.Context, tx querier, kiosk string, seq uint64) ([]byte, error) {
	if seq > math.MaxInt64 || !h.covers(int64(seq)) {
		return heldChainedHash(ctx, tx, kiosk, seq)
	}
	if r := h.rows[int64(seq)]; r.prev != nil {
		return r.hash, nil
	}
	return nil, nil
}

// prev is heldColumn("prev"), from what around read when it covers seq.
func (h heldAround) prev(ctx context.Context, tx querier, kiosk string, seq uint64) ([]byte, error) {
	if seq > math.MaxInt64 || !h.covers(int64(seq)) {
		return heldColumn(ctx, tx, "prev", kiosk, seq)
	}
	return h.rows[int64(seq)].prev, nil
}

// heldColumn reads the hash or prev of the held entry (kiosk, seq); nil
// when the hub holds no such entry or it has none.
func heldColumn(ctx context.Context, tx querier, column, kiosk string, seq uint64) ([]byte, error) {
	var v []byte
	err := tx.QueryRowContext(ctx, `SELECT `+column+` FROM entries WHERE kiosk = ? AND seq = ?`, kiosk, int64(seq)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read held %s of %d: %w", column, seq, err)
	}
	return v, nil
}

func chainError(i int, e protocol.Entry, problem string) error {
	return fmt.Errorf("%w: %w", ErrChain, &protocol.FieldError{
		Field: fmt.Sprintf("entries[%d].prev", i), Problem: fmt.Sprintf("entry %d %s", e.Seq, problem)})
}

// short is the first 12 hex digits of a hash, enough for a person to
// compare two in a log line.
func short(h []byte) string {
	if len(h) < 6 {
		return fmt.Sprintf("%x", h)
	}
	return fmt.Sprintf("%x…", h[:6])
}

// bundleChain checks the links between a bundle's entries (From..To, no
// gaps), all in memory: each entry that carries a prev must name the hash
// of the entry before it. An entry edited on the way, even with the
// bundle's checksum recomputed, breaks the link to the entry after it.
// (The last entry's link is checked against what the hub holds, if it
// holds the next one; the kiosk's signature is what covers it in full.)
func bundleChain(b protocol.Bundle) error {
	batch := protocol.Batch{Kiosk: b.Kiosk, Site: b.Site, Entries: b.Entries}
	links := chainLinks(batch)
	for i := 1; i < len(links); i++ {
		if p := links[i].prev; p != nil && !bytes.Equal(p, links[i-1].hash[:]) {
			return chainError(i, b.Entries[i], fmt.Sprintf("names %s as the entry before it, but the bundle's entry %d hashes to %s: "+
				"the bundle was edited after the kiosk wrote it", short(p), b.Entries[i-1].Seq, short(links[i-1].hash[:])))
		}
	}
	return nil
}
