package main

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/hub/datadir"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"
)

// TestImportFromAnotherJournalRefused: the hub holds gate-1's entries of
// journal A; a bundle of a new journal (numbered from 1 again) is refused
// with a message saying what happened, and nothing is imported.
func TestImportFromAnotherJournalRefused(t *testing.T) {
	const journalA, journalB = "0190d6e4-7a4b-7cc0-8b8e-00000000000a", "0190d6e4-7a4b-7cc0-8b8e-00000000000b"
	dir := t.TempDir()
	store, err := records.Open(filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	entries := func(tail string, seqs ...uint64) []protocol.Entry {
		var es []protocol.Entry
		for _, seq := range seqs {
			es = append(es, protocol.Entry{Kiosk: "gate-1", Seq: seq, ID: fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%s%09x", tail, seq),
				Time: t0, Kind: protocol.KindDelivery, Decision: protocol.DecisionRecord, Reasons: []string{}})
		}
		return es
	}
	if _, err := store.SaveBatch(t.Context(), protocol.Batch{Kiosk: "gate-1", Site: "huamu-1", Journal: journalA, Sent: t0,
		Entries: entries("aaa", 1, 2, 3)}, t0); err != nil {
		t.Fatal(err)
	}
	store.Close()
	priv := enrollForImport(t, dir, "huamu-1", "gate-1")
	bundle := protocol.Bundle{Kiosk: "gate-1", Site: "huamu-1", Journal: journalB, Exported: t0, Entries: entries("bbb", 1, 2)}
	if err := protocol.SignBundle(priv, &bundle); err != nil {
		t.Fatal(err)
	}
	data, err := protocol.EncodeBundle(bundle)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gate-1.gpx")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = run(t, t.Context(), &out, "import", "--data", dir, path)
	if !errors.Is(err, records.ErrOtherJournal) || !strings.Contains(err.Error(), "nothing imported") ||
		!strings.Contains(err.Error(), "holds entries up to 3 of journal "+journalA) {
		t.Fatalf("hub import of another journal's bundle = %v, want a refusal naming the held journal", err)
	}
	out.Reset()
	if err := run(t, t.Context(), &out, "entries", "--data", dir, "--json"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), `"seq"`); n != 3 || strings.Contains(out.String(), "bbb") {
		t.Errorf("after a refused import the hub holds %d entries:\n%s\nwant the 3 of journal A", n, out.String())
	}
}

// enrollForImport enrolls site/kiosk in the register of the hub data
// folder dir with a new key, and returns the key.
func enrollForImport(t *testing.T, dir, site, kiosk string) ed25519.PrivateKey {
	t.Helper()
	reg, err := datadir.Dir{Path: dir}.OpenRegistry()
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	pub, priv, _ := ed25519.GenerateKey(nil)
	if _, err := reg.Add(t.Context(), site, kiosk, pub); err != nil {
		t.Fatal(err)
	}
	return priv
}

// TestImportRefusesWhatItCannotVerify: a bundle edited after export with
// its checksum recomputed, one signed with another key, an unsigned one
// and one of a kiosk not enrolled are each refused whole, the message
// naming the signature and the kiosk's key; the true bundle is imported.
func TestImportRefusesWhatItCannotVerify(t *testing.T) {
	dir := t.TempDir()
	store, err := records.Open(filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	priv := enrollForImport(t, dir, "huamu-1", "gate-1")
	fp := protocol.Fingerprint(priv.Public().(ed25519.PublicKey))
	_, other, _ := ed25519.GenerateKey(nil)
	var es []protocol.Entry
	prev := protocol.Genesis
	for seq := uint64(1); seq <= 3; seq++ {
		e := protocol.Entry{Kiosk: "gate-1", Seq: seq, ID: fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", seq), Time: t0,
			Kind: protocol.KindCheck, Decision: protocol.DecisionAllow, Reasons: []string{},
			Temperature: &protocol.Reading{ObjectC: 37.9, ScreenedC: 37.9}, Prev: protocol.HashText(prev)}
		prev = protocol.EntryHash(prev, e)
		es = append(es, e)
	}
	write := func(kiosk string, key ed25519.PrivateKey, edit func(*protocol.Bundle)) string {
		b := protocol.Bundle{Kiosk: kiosk, Site: "huamu-1", Exported: t0, Entries: slices.Clone(es)}
		for i := range b.Entries {
			b.Entries[i].Kiosk = kiosk
		}
		if key != nil {
			if err := protocol.SignBundle(key, &b); err != nil {
				t.Fatal(err)
			}
		}
		if edit != nil {
			edit(&b)
		}
		data, err := protocol.EncodeBundle(b) // the checksum recomputed
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "bundle.gpx")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	hideFever := func(b *protocol.Bundle) {
		r := *b.Entries[1].Temperature
		r.ScreenedC = 36.4
		b.Entries[1].Temperature = &r
	}
	for name, c := range map[string]struct {
		path string
		want []string
	}{
		"edited":             {write("gate-1", priv, hideFever), []string{"signature does not verify", fp, "edited"}},
		"another key":        {write("gate-1", other, nil), []string{"signature does not verify", fp}},
		"unsigned":           {write("gate-1", nil, nil), []string{"no signature", fp}},
		"kiosk not enrolled": {write("gate-9", other, nil), []string{"gate-9 is not enrolled"}},
	} {
		var out bytes.Buffer
		err := run(t, t.Context(), &out, "import", "--data", dir, c.path)
		if err == nil || !strings.Contains(err.Error(), "nothing imported") {
			t.Errorf("%s: hub import = %v, want refused", name, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: hub import = %v, want it to say %q", name, err, w)
			}
		}
	}
	var out bytes.Buffer
	if err := run(t, t.Context(), &out, "entries", "--data", dir, "--json"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), `"seq"`) {
		t.Fatalf("refused bundles left entries:\n%s", out.String())
	}
	out.Reset()
	if err := run(t, t.Context(), &out, "import", "--data", dir, write("gate-1", priv, nil)); err != nil ||
		!strings.Contains(out.String(), "3 new") {
		t.Fatalf("hub import of the true bundle = %v\n%s", err, out.String())
	}
}
