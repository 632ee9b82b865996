package gate

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/thermometer"
	"github.com/gatepost/gatepost/internal/testkit"
)

// heldThermometer is a thermometer whose Read waits to be released: a
// scan the loop cannot finish.
type heldThermometer struct {
	*fakeThermometer
	entered, release chan struct{}
}

func (h heldThermometer) Read(ctx context.Context, d time.Duration) (thermometer.Reading, error) {
	h.entered <- struct{}{}
	<-h.release
	return h.fakeThermometer.Read(ctx, d)
}

// TestAlive: not alive before Run; alive while it waits for a scan, however
// long; not alive once one scan has taken longer than the limit; alive
// again when it finishes.
func TestAlive(t *testing.T) {
	tg := newTestGate(t)
	held := heldThermometer{tg.therm, make(chan struct{}, 1), make(chan struct{})}
	tg.Gate.therm = held
	if err := tg.Alive(time.Second); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Alive() before Run = %v, want ErrNotRunning", err)
	}
	tg.run()
	testkit.Eventually(t, "the loop running", func() bool { return tg.Alive(time.Second) == nil })
	tg.clk.Advance(time.Hour) // nobody came for an hour: still alive
	if err := tg.Alive(time.Second); err != nil {
		t.Fatalf("Alive() after an idle hour = %v", err)
	}
	tg.scan.codes <- "A-1"
	<-held.entered
	if err := tg.Alive(time.Second); err != nil {
		t.Fatalf("Alive() on a scan just begun = %v", err)
	}
	tg.clk.Advance(2 * time.Second)
	if err := tg.Alive(time.Second); err == nil || !strings.Contains(err.Error(), "on one scan") {
		t.Fatalf("Alive() 2s into one scan = %v, want an error about one scan", err)
	}
	close(held.release)
	testkit.Eventually(t, "the loop alive again", func() bool { return tg.Alive(time.Second) == nil })
}
