package gate

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/testkit"
)

// TestTrafficScansThePeople: the demo's traffic scans the codes it was
// given, at gaps on its clock.
func TestTrafficScansThePeople(t *testing.T) {
	clk := clock.NewFake(time.Time{})
	tr := NewTraffic("gate-1", time.Second, time.Second, clk)
	people := []string{"P-1", "P-2"}
	tr.SetPeople(people)
	scans := make(chan string, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr.Run(ctx, func(code string) { scans <- code })
	}()
	for n := 0; n < 5; {
		select {
		case code := <-scans:
			n++
			if !slices.Contains(people, code) && len(code) < 20 {
				t.Errorf("scanned %q, want one of %v (or a payment code)", code, people)
			}
		default:
			testkit.Eventually(t, "traffic waiting on its clock", func() bool { return clk.Waiters() > 0 || len(scans) > 0 })
			clk.Advance(2 * time.Second)
		}
	}
	cancel()
	<-done
	if f := tr.Forehead(); f < 35.9 || f > 38.7 {
		t.Errorf("Forehead() = %v, want a person's temperature", f)
	}
}
