package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	data, err := protocol.EncodeBundle(protocol.Bundle{Kiosk: "gate-1", Site: "huamu-1", Journal: journalB, Exported: t0,
		Entries: entries("bbb", 1, 2)})
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
