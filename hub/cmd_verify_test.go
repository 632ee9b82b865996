package main

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/protocol"

	_ "modernc.org/sqlite"
)

// TestVerifyCommand: clean storage verifies and exits zero; after an
// entry is edited behind the hub's back, the command names it, in text
// and in JSON, and fails.
func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	seed(t, dir)
	var out bytes.Buffer
	if err := run(t, t.Context(), &out, "verify", "--data", dir); err != nil {
		t.Fatalf("hub verify of clean storage: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "2 kiosks, 4 entries") || !strings.Contains(out.String(), "all verified") {
		t.Errorf("hub verify printed %q", out.String())
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE entries SET body = json_set(body, '$.decision', 'deny'), decision = 'deny' WHERE kiosk = 'gate-1' AND seq = 2`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out.Reset()
	err = run(t, t.Context(), &out, "verify", "--data", dir)
	if !errors.Is(err, errTampered) || !strings.Contains(out.String(), "gate-1 seq 2: altered") {
		t.Fatalf("hub verify after an edit = %v, printed %q", err, out.String())
	}
	out.Reset()
	err = run(t, t.Context(), &out, "verify", "--data", dir, "--kiosk", "gate-2", "--json")
	if err != nil || !strings.Contains(out.String(), `"findings": []`) {
		t.Fatalf("hub verify --kiosk gate-2 --json = %v, printed %q", err, out.String())
	}
}

// TestVerifyCommandChecksSignatures: an entry rewritten in hub.db with its
// hash recomputed is named by hub verify through the kiosk's signature
// over the batch that brought it, checked against its enrolled key.
func TestVerifyCommandChecksSignatures(t *testing.T) {
	dir := t.TempDir()
	store, err := records.Open(filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	priv := enrollForImport(t, dir, "huamu-1", "gate-1")
	var es []protocol.Entry
	prev := protocol.Genesis
	for seq := uint64(1); seq <= 2; seq++ {
		e := protocol.Entry{Kiosk: "gate-1", Seq: seq, ID: fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", seq), Time: t0,
			Kind: protocol.KindDelivery, Decision: protocol.DecisionRecord, Reasons: []string{}, Unit: "1-101",
			Prev: protocol.HashText(prev)}
		prev = protocol.EntryHash(prev, e)
		es = append(es, e)
	}
	b := protocol.Batch{Kiosk: "gate-1", Site: "huamu-1", Sent: t0, Entries: es}
	if err := protocol.SignBatch(priv, &b); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SaveBatch(t.Context(), b, t0); err != nil {
		t.Fatal(err)
	}
	store.Close()
	var out bytes.Buffer
	if err := run(t, t.Context(), &out, "verify", "--data", dir); err != nil || !strings.Contains(out.String(), "1 batch signatures checked") {
		t.Fatalf("hub verify of clean storage: %v\n%s", err, out.String())
	}
	edited := es[1]
	edited.Unit = "9-909"
	body, _ := protocol.EncodeEntry(edited)
	h := protocol.EntryHash(prev0(t, es[1]), edited)
	db, err := sql.Open("sqlite", filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE entries SET body = ?, unit = ?, hash = ? WHERE seq = 2`, string(body), edited.Unit, h[:]); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out.Reset()
	err = run(t, t.Context(), &out, "verify", "--data", dir)
	if !errors.Is(err, errTampered) || !strings.Contains(out.String(), "gate-1 seq 1..2: signature") {
		t.Fatalf("hub verify after hashes were recomputed = %v\n%s\nwant a signature finding", err, out.String())
	}
}

func prev0(t *testing.T, e protocol.Entry) [32]byte {
	t.Helper()
	p, _, err := protocol.PrevHash(e)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
