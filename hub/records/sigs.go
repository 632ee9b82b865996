package records

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"github.com/gatepost/gatepost/protocol"
)

// The hub keeps each live batch's signature (table batch_sigs): ingest
// verified it against the kiosk's enrolled key before SaveBatch stored the
// batch, and it covers each entry's sequence, prev and hash. VerifySigs
// checks the stored prev and hash columns against it again, so that
// someone who rewrites hub.db and recomputes the hashes of an entry and
// of every later one (which the chain walk alone cannot tell) is caught:
// without the kiosk's key, they cannot sign the new hashes. Bundles
// (hub import) are checked on import and their signatures not kept.

// batchSigsTable is schema step 8: each live batch's signature by its
// kiosk (protocol.Batch.Sig), verified by ingest before the batch was
// stored. IF NOT EXISTS: a file rolled back to an older version in tests
// keeps its tables.
const batchSigsTable = `CREATE TABLE IF NOT EXISTS batch_sigs (
	kiosk     TEXT    NOT NULL,
	journal   TEXT    NOT NULL, -- '' for a batch naming none
	site      TEXT    NOT NULL,
	first_seq INTEGER NOT NULL,
	last_seq  INTEGER NOT NULL,
	sig       TEXT    NOT NULL,
	PRIMARY KEY (kiosk, journal, first_seq, last_seq)
) WITHOUT ROWID;`

// FindingSignature: stored entries whose hashes no longer verify against
// the signature their kiosk made over the batch that brought them.
const FindingSignature = "signature"

// keepSig stores b's signature after b was saved, when it covers entries
// the hub now holds as b carried them: a signed, contiguous batch with no
// entry in conflict with a held one.
func keepSig(ctx context.Context, tx querier, b protocol.Batch, saved Saved) error {
	first, last := b.Entries[0].Seq, b.Entries[len(b.Entries)-1].Seq
	if b.Sig == "" || saved.Conflicts > 0 || last-first+1 != uint64(len(b.Entries)) {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO batch_sigs (kiosk, journal, site, first_seq, last_seq, sig)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		b.Kiosk, b.Journal, b.Site, int64(first), int64(last), b.Sig); err != nil {
		return fmt.Errorf("keep batch signature: %w", err)
	}
	return nil
}

// SigsVerified is what VerifySigs checked and found.
type SigsVerified struct {
	Checked  int       `json:"checked"`  // batch signatures checked
	Skipped  int       `json:"skipped"`  // of a kiosk with no enrolled key, or covering entries gone (the chain walk names them)
	Findings []Finding `json:"findings"` // one per batch whose entries no longer verify
}

// VerifySigs checks every kept batch signature (only kiosk's, if not "")
// against the stored hashes of the entries it covers and the kiosk's key
// (keyOf; nil for a kiosk with none, whose signatures are skipped).
func (s *SQLite) VerifySigs(ctx context.Context, kiosk string,
	keyOf func(ctx context.Context, kiosk string) (ed25519.PublicKey, error)) (SigsVerified, error) {
	out := SigsVerified{Findings: []Finding{}}
	q, args := `SELECT kiosk, journal, site, first_seq, last_seq, sig FROM batch_sigs ORDER BY kiosk, first_seq`, []any{}
	if kiosk != "" {
		q, args = `SELECT kiosk, journal, site, first_seq, last_seq, sig FROM batch_sigs WHERE kiosk = ? ORDER BY first_seq`, []any{kiosk}
	}
	rows, err := s.read.Query(ctx, q, args...)
	if err != nil {
		return out, fmt.Errorf("verify signatures: %w", err)
	}
	type sigRow struct {
		kiosk, journal, site, sig string
		first, last               uint64
	}
	var all []sigRow
	for rows.Next() {
		var r sigRow
		if err := rows.Scan(&r.kiosk, &r.journal, &r.site, &r.first, &r.last, &r.sig); err != nil {
			rows.Close()
			return out, fmt.Errorf("verify signatures: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("verify signatures: %w", err)
	}
	keys := map[string]ed25519.PublicKey{}
	for _, r := range all {
		pub, ok := keys[r.kiosk]
		if !ok {
			if pub, err = keyOf(ctx, r.kiosk); err != nil {
				return out, fmt.Errorf("verify signatures: the key of %s: %w", r.kiosk, err)
			}
			keys[r.kiosk] = pub
		}
		links, whole, err := s.storedLinks(ctx, r.kiosk, r.first, r.last)
		if err != nil {
			return out, fmt.Errorf("verify signatures: %w", err)
		}
		if pub == nil || !whole {
			out.Skipped++
			continue
		}
		out.Checked++
		if protocol.VerifyChain(pub, r.sig, r.kiosk, r.site, r.journal, links) != nil {
			out.Findings = append(out.Findings, Finding{Kiosk: r.kiosk, Seq: r.first, Last: r.last, Problem: FindingSignature,
				Detail: fmt.Sprintf("the stored hashes no longer verify against the signature the kiosk made with its key %s "+
					"over the batch that brought them: hub.db was rewritten and its hashes recomputed", protocol.Fingerprint(pub))})
		}
	}
	return out, nil
}

// storedLinks reads the chain links of kiosk's entries first..last as
// stored; whole is false when one is missing or has no hash.
func (s *SQLite) storedLinks(ctx context.Context, kiosk string, first, last uint64) ([]protocol.ChainLink, bool, error) {
	rows, err := s.read.Query(ctx, `SELECT seq, prev, hash FROM entries WHERE kiosk = ? AND seq BETWEEN ? AND ? ORDER BY seq`,
		kiosk, int64(first), int64(last))
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var links []protocol.ChainLink
	whole := true
	for rows.Next() {
		var seq uint64
		var prev, hash []byte
		if err := rows.Scan(&seq, &prev, &hash); err != nil {
			return nil, false, err
		}
		l := protocol.ChainLink{Seq: seq}
		switch {
		case len(hash) != 32 || (prev != nil && len(prev) != 32):
			whole = false
		default:
			l.Hash = [32]byte(hash)
			if prev != nil {
				l.Prev = [32]byte(prev)
			}
		}
		links = append(links, l)
	}
	if uint64(len(links)) != last-first+1 {
		whole = false
	}
	return links, whole, rows.Err()
}
