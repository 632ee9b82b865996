package records

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// What Verify finds wrong with a stored entry.
const (
	// FindingAltered: the row's content no longer gives the hash the hub
	// computed when it received it, or no longer links with the entry
	// before it, or its columns disagree with its body.
	FindingAltered = "altered"
	// FindingDeleted: the hub held every entry up to its contiguous
	// sequence, and this one is gone.
	FindingDeleted = "deleted"
	// FindingInserted: a row the hub never received: beyond the highest
	// sequence it recorded, or without the hash it gives every entry it
	// stores.
	FindingInserted = "inserted"
)

// Finding is one stored entry that is not as the hub received it.
type Finding struct {
	Kiosk   string `json:"kiosk"`
	Seq     uint64 `json:"seq"`
	Last    uint64 `json:"last,omitempty"` // a run of deleted entries ends here
	Problem string `json:"problem"`        // a Finding* constant
	Detail  string `json:"detail"`         // what did not match, for a person
}

// Verified is what Verify walked and found.
type Verified struct {
	Kiosks  int `json:"kiosks"`
	Entries int `json:"entries"` // rows walked
	Purged  int `json:"purged"`  // of them purged: verified with the personal digest kept
	// Unchained counts rows stored before the hub kept hashes: they cannot
	// be verified.
	Unchained int `json:"unchained"`
	// Signatures counts the kept batch signatures checked again
	// (VerifySigs; hub verify adds them), and SignaturesSkipped those of
	// kiosks without a key or over entries gone.
	Signatures        int       `json:"signatures"`
	SignaturesSkipped int       `json:"signatures_skipped"`
	Findings          []Finding `json:"findings"`
	Took              string    `json:"took"`
}

// Verify re-walks every stored chain (only kiosk's, if not "") and names
// each entry altered, deleted or inserted after the hub received it. It
// reads through the read pool, one kiosk at a time, in sequence order.
func (s *SQLite) Verify(ctx context.Context, kiosk string) (Verified, error) {
	start := time.Now() // the wall clock: how long the walk took, for a person
	out := Verified{Findings: []Finding{}}
	q := `SELECT kiosk, contiguous, highest FROM kiosks ORDER BY kiosk`
	args := []any{}
	if kiosk != "" {
		q = `SELECT kiosk, contiguous, highest FROM kiosks WHERE kiosk = ?`
		args = append(args, kiosk)
	}
	rows, err := s.read.Query(ctx, q, args...)
	if err != nil {
		return Verified{}, fmt.Errorf("verify: %w", err)
	}
	type kioskRow struct {
		kiosk               string
		contiguous, highest uint64
	}
	var kiosks []kioskRow
	for rows.Next() {
		var k kioskRow
		if err := rows.Scan(&k.kiosk, &k.contiguous, &k.highest); err != nil {
			rows.Close()
			return Verified{}, fmt.Errorf("verify: %w", err)
		}
		kiosks = append(kiosks, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Verified{}, fmt.Errorf("verify: %w", err)
	}
	if kiosk != "" && len(kiosks) == 0 {
		return Verified{}, fmt.Errorf("verify: the hub holds no entries of kiosk %q (hub kiosks list names the kiosks)", kiosk)
	}
	for _, k := range kiosks {
		w := walker{kiosk: k.kiosk, contiguous: k.contiguous, highest: k.highest, out: &out}
		if err := s.walk(ctx, &w); err != nil {
			return Verified{}, fmt.Errorf("verify %s: %w", k.kiosk, err)
		}
		out.Kiosks++
	}
	out.Took = time.Since(start).Round(time.Millisecond).String()
	return out, nil
}

// walker verifies one kiosk's rows in sequence order.
type walker struct {
	kiosk               string
	contiguous, highest uint64
	out                 *Verified

	last     uint64 // sequence of the row before, 0 at the start
	lastHash []byte // its stored hash, nil if it carried no prev (before the chain)
	chained  bool   // a row with a hash was seen
}

func (s *SQLite) walk(ctx context.Context, w *walker) error {
	rows, err := s.read.Query(ctx, `
		SELECT seq, kind, decision, unit, body, hash, prev, personal, purged_at
		FROM entries WHERE kiosk = ? ORDER BY seq`, w.kiosk)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r storedRow
		if err := rows.Scan(&r.seq, &r.kind, &r.decision, &r.unit, &r.body, &r.hash, &r.prev, &r.personal, &r.purgedAt); err != nil {
			return err
		}
		w.row(r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	w.deleted(w.contiguous + 1)
	return nil
}

type storedRow struct {
	seq                  uint64
	kind, decision, unit string
	body                 []byte
	hash, prev, personal []byte
	purgedAt             int64
}

func (w *walker) find(seq uint64, problem, detail string, args ...any) {
	w.out.Findings = append(w.out.Findings, Finding{Kiosk: w.kiosk, Seq: seq, Problem: problem, Detail: fmt.Sprintf(detail, args...)})
}

// deleted names the entries missing between the row before and next
// that the hub had held (at or below its contiguous sequence).
func (w *walker) deleted(next uint64) {
	first, last := w.last+1, min(next-1, w.contiguous)
	if first > last {
		return
	}
	f := Finding{Kiosk: w.kiosk, Seq: first, Problem: FindingDeleted,
		Detail: fmt.Sprintf("the hub received every entry up to %d, and this one is gone", w.contiguous)}
	if last > first {
		f.Last = last
		f.Detail = fmt.Sprintf("the hub received every entry up to %d, and %d..%d are gone", w.contiguous, first, last)
	}
	w.out.Findings = append(w.out.Findings, f)
}

func (w *walker) row(r storedRow) {
	w.out.Entries++
	w.deleted(r.seq)
	defer func() {
		w.last, w.lastHash = r.seq, r.hash
		if r.prev == nil {
			w.lastHash = nil // an entry after it starts the chain
		}
	}()
	switch {
	case r.seq > w.highest:
		w.find(r.seq, FindingInserted, "beyond %d, the highest sequence the hub received from this kiosk", w.highest)
		return
	case len(r.hash) != 32 && w.chained:
		w.find(r.seq, FindingInserted, "it has no hash, which the hub gives every entry it stores")
		return
	case len(r.hash) != 32:
		w.out.Unchained++ // stored before the hub kept hashes
		return
	}
	w.chained = true
	if r.purgedAt != 0 {
		w.out.Purged++
	}
	if problem := r.check(); problem != "" {
		w.find(r.seq, FindingAltered, "%s", problem)
		return
	}
	if r.prev != nil && w.last == r.seq-1 && len(w.lastHash) == 32 && !bytes.Equal(r.prev, w.lastHash) {
		w.find(r.seq, FindingAltered, "it names %s as the entry before it, but the entry held at %d hashes to %s",
			short(r.prev), r.seq-1, short(w.lastHash))
	}
}

// check recomputes the row's hash from its body and says what does not
// match ("" when all does).
func (r storedRow) check() string {
	var e protocol.Entry
	if err := json.Unmarshal(r.body, &e); err != nil {
		return "its body is not an entry any more: " + err.Error()
	}
	switch {
	case e.Seq != r.seq:
		return fmt.Sprintf("its body says sequence %d", e.Seq)
	case string(e.Kind) != r.kind || string(e.Decision) != r.decision || e.Unit != r.unit:
		return fmt.Sprintf("its columns (kind %s, decision %s, unit %q) disagree with its body (%s, %s, %q)",
			r.kind, r.decision, r.unit, e.Kind, e.Decision, e.Unit)
	}
	prev := protocol.Genesis
	if r.prev != nil {
		if len(r.prev) != 32 || e.Prev != protocol.HashText([32]byte(r.prev)) {
			return "its prev column disagrees with the prev in its body"
		}
		prev = [32]byte(r.prev)
	} else if e.Prev != "" {
		return "its body names a prev the hub never stored"
	}
	personal := protocol.PersonalDigest(e)
	if r.purgedAt != 0 {
		if !purgedClean(e) {
			return "it was purged, yet holds personal details again"
		}
		if len(r.personal) != 32 {
			return "it was purged, and the digest of its personal details is gone"
		}
		personal = [32]byte(r.personal)
	}
	if got := protocol.EntryHashWith(prev, personal, e); !bytes.Equal(got[:], r.hash) {
		return fmt.Sprintf("its content hashes to %s, not to %s as when the hub received it", short(got[:]), short(r.hash))
	}
	return ""
}

// purgedClean reports whether e holds no personal detail, as a purge
// leaves it.
func purgedClean(e protocol.Entry) bool {
	if e.Scan != "" {
		return false
	}
	v := e.Visitor
	return v == nil || ((v.Name == "" || v.Name == Redacted) && v.Contact == "" && v.From == "" && v.Purpose == "")
}
