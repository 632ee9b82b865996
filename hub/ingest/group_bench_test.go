package ingest

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkOneEntryBatches is ingest's own cost at rush hour: groups of
// eight one-entry batches from many kiosks, decoded and stored on a real
// SQLite file (acks not published). docs/benchmarks.md ("Fleet") quotes
// it: go test ./hub/ingest -run '^$' -bench OneEntry -benchtime 2000x
func BenchmarkOneEntryBatches(b *testing.B) {
	h := newHarness(b)
	h.in.Publish = func(context.Context, string, []byte) error { return nil }
	seq := map[string]uint64{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var ds []Decoded
		for k := 0; k < 8; k++ {
			kiosk := fmt.Sprintf("gate-%d", (i*8+k)%500)
			seq[kiosk]++
			ds = append(ds, h.in.Decode(b.Context(), "gatepost/v1/"+site+"/"+kiosk+"/entries", wire(b, site, kiosk, seq[kiosk])))
		}
		h.in.SaveGroup(b.Context(), ds)
	}
}
