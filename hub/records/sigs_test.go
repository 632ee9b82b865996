package records

import (
	"context"
	"crypto/ed25519"
	"testing"

	"github.com/gatepost/gatepost/protocol"
)

// TestVerifySigsCatchesRecomputedHashes: a signed batch's signature is
// kept; an entry rewritten in hub.db with its hash recomputed (the last
// of its kiosk, so no later link shows it) passes the chain walk, and the
// kept signature names it. Unsigned batches keep nothing; a kiosk without
// a key is skipped.
func TestVerifySigsCatchesRecomputedHashes(t *testing.T) {
	onEngines(t, func(t *testing.T, s *SQLite) {
		ctx := t.Context()
		pub, priv, _ := ed25519.GenerateKey(nil)
		es := chained("gate-1", 3)
		b := batchOf(es...)
		if err := protocol.SignBatch(priv, &b); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveBatch(ctx, b, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveBatch(ctx, batchOf(chained("gate-2", 2)...), t0); err != nil { // unsigned: nothing kept
			t.Fatal(err)
		}
		keyOf := func(_ context.Context, k string) (ed25519.PublicKey, error) {
			if k == "gate-1" {
				return pub, nil
			}
			return nil, nil
		}
		sv, err := s.VerifySigs(ctx, "", keyOf)
		if err != nil || sv.Checked != 1 || len(sv.Findings) != 0 {
			t.Fatalf("VerifySigs of untouched storage = %+v, %v; want 1 checked, no findings", sv, err)
		}

		// The forger's edit: entry 3's unit, its body, and its hash recomputed.
		edited := es[2]
		edited.Unit = "9-909"
		body, err := protocol.EncodeEntry(edited)
		if err != nil {
			t.Fatal(err)
		}
		prev, _, _ := protocol.PrevHash(edited)
		h := protocol.EntryHash(prev, edited)
		if _, err := s.write.Exec(ctx, `UPDATE entries SET body = ?, unit = ?, hash = ? WHERE kiosk = 'gate-1' AND seq = 3`,
			string(body), edited.Unit, h[:]); err != nil {
			t.Fatal(err)
		}
		if v, err := s.Verify(ctx, "gate-1"); err != nil || len(v.Findings) != 0 {
			t.Fatalf("Verify = %+v, %v; the chain walk alone should not see a recomputed last hash", v.Findings, err)
		}
		sv, err = s.VerifySigs(ctx, "gate-1", keyOf)
		if err != nil || len(sv.Findings) != 1 {
			t.Fatalf("VerifySigs after the edit = %+v, %v; want one finding", sv, err)
		}
		if f := sv.Findings[0]; f.Problem != FindingSignature || f.Seq != 1 || f.Last != 3 {
			t.Errorf("finding = %+v, want signature over 1..3", f)
		}
		if sv, _ := s.VerifySigs(ctx, "gate-1", func(context.Context, string) (ed25519.PublicKey, error) { return nil, nil }); sv.Skipped != 1 {
			t.Errorf("VerifySigs without a key = %+v, want it skipped", sv)
		}
	})
}
