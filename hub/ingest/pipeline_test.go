package ingest

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// TestMain fails on leaked goroutines, except paho's own (as in
// hub/link's tests): the flood test runs the real link and kiosk clients.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/eclipse/paho%2emqtt%2egolang.(*client).reconnect"),
		goleak.IgnoreAnyFunction("github.com/eclipse/paho%2emqtt%2egolang.(*client).Disconnect.func1"),
	)
}

// chanSource is a Source fed by the test.
type chanSource chan [2][]byte

func (c chanSource) Next(ctx context.Context) (string, []byte, bool) {
	select {
	case <-ctx.Done():
		return "", nil, false
	case m := <-c:
		return string(m[0]), m[1], true
	}
}

// TestRunStoresInOrderAndStops feeds batches through both stages and
// checks every one is stored and acked in arrival order, and that Run
// returns once ctx ends.
func TestRunStoresInOrderAndStops(t *testing.T) {
	h := newHarness(t)
	src := make(chanSource)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); h.in.Run(ctx, src) }()
	topic := protocol.EntriesTopic(site, kiosk)
	for seq := uint64(1); seq <= 5; seq++ {
		src <- [2][]byte{[]byte(topic), wire(t, site, kiosk, seq)}
	}
	src <- [2][]byte{[]byte("not/a/topic"), nil} // refused, then the stages go on
	src <- [2][]byte{[]byte(topic), wire(t, site, kiosk, 6)}
	testkit.Eventually(t, "six batches stored", func() bool { return h.in.Stats().Batches == 6 })
	cancel()
	<-done
	if len(h.acks) != 6 {
		t.Fatalf("Run acked %d batches, want 6", len(h.acks))
	}
	for i, a := range h.acks {
		if a.ack.Contiguous != uint64(i+1) {
			t.Errorf("ack %d: contiguous %d, want %d", i, a.ack.Contiguous, i+1)
		}
	}
	if st := h.in.Stats(); st.Rejected != 1 {
		t.Errorf("Rejected = %d, want 1", st.Rejected)
	}
}
