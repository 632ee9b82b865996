package protocoltest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gatepost/gatepost/protocol"
)

// ChainVector is one case of protocol/testdata/chain.json: a journal's
// entries in order (each carrying its prev) and the hash each must get.
type ChainVector struct {
	Name    string
	Entries []protocol.Entry
	Hashes  [][32]byte
}

// ChainVectors loads protocol/testdata/chain.json, the chain vectors the
// kiosk's journal and the hub's records both test against.
func ChainVectors(tb testing.TB) []ChainVector {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "testdata", "chain.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var raw []struct {
		Name    string `json:"name"`
		Entries []struct {
			Entry json.RawMessage `json:"entry"`
			Hash  string          `json:"hash"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		tb.Fatalf("chain.json: %v", err)
	}
	out := make([]ChainVector, len(raw))
	for i, r := range raw {
		out[i].Name = r.Name
		for j, re := range r.Entries {
			e, err := protocol.DecodeEntry(re.Entry)
			if err != nil {
				tb.Fatalf("chain.json %q entry %d: %v", r.Name, j, err)
			}
			h, err := protocol.ParseHash(re.Hash)
			if err != nil {
				tb.Fatalf("chain.json %q entry %d hash: %v", r.Name, j, err)
			}
			out[i].Entries = append(out[i].Entries, e)
			out[i].Hashes = append(out[i].Hashes, h)
		}
	}
	return out
}
