package ingest

import (
	"context"
	"fmt"
	"testing"
)

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
