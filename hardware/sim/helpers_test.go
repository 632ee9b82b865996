package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/serialport"
)

func openPort(t *testing.T, path string) *serialport.Port {
	t.Helper()
	p, err := serialport.Open(path, serialport.Config{ReadTimeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatalf("serialport.Open(%s): %v", path, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// readN reads exactly n bytes, looping over read timeouts, or fails the
// test when ctx ends. It returns the sizes of the reads too.
func readN(ctx context.Context, t *testing.T, p *serialport.Port, n int) (data []byte, reads []int) {
	t.Helper()
	buf := make([]byte, n)
	for len(data) < n {
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d bytes (% X) before %v", len(data), n, data, ctx.Err())
		}
		k, err := p.Read(buf[:n-len(data)])
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if k > 0 {
			data = append(data, buf[:k]...)
			reads = append(reads, k)
		}
	}
	return data, reads
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	t.Cleanup(cancel)
	return ctx
}
