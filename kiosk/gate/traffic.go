package gate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatepost/gatepost/internal/clock"
)

// Traffic is who walks up to a gate whose devices are simulated: the
// demo's residents with their signed passes, now and then someone with a
// fever who rests and is measured again, now and then a QR code that is
// not a pass. The daemon gives Forehead to the simulated thermometer and
// runs Run with the simulated scanner.
type Traffic struct {
	kiosk      string
	mean, rest time.Duration
	clk        clock.Clock

	mu        sync.Mutex
	people    []string    // pass tokens to scan; none: made-up codes
	feverNext atomic.Bool // the next reading is a fever
}

// NewTraffic makes traffic for kiosk: a scan at random gaps around every,
// and a person with a fever back after recheckAfter (the rules' rest)
// and one more gap.
func NewTraffic(kiosk string, every, recheckAfter time.Duration, clk clock.Clock) *Traffic {
	return &Traffic{kiosk: kiosk, mean: every, rest: recheckAfter + every, clk: clock.Or(clk)}
}

// SetPeople makes the traffic scan these codes (signed pass tokens, for
// the demo) instead of made-up ones.
func (t *Traffic) SetPeople(codes []string) {
	t.mu.Lock()
	t.people = append([]string(nil), codes...)
	t.mu.Unlock()
}

// next picks the next person: their code, and whether they have a fever.
func (t *Traffic) next(n int) (code string, fever bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.people) == 0 {
		return fmt.Sprintf("DEMO-%s-%d-%02d%02d-%d", t.kiosk, 1+rand.IntN(12), 1+rand.IntN(6), 1+rand.IntN(4), n), rand.IntN(20) == 0
	}
	if rand.IntN(25) == 0 {
		return fmt.Sprintf("https://pay.example.com/qr/%08x", rand.Uint32()), false // someone shows a payment code
	}
	return t.people[rand.IntN(len(t.people))], rand.IntN(15) == 0
}

// Forehead is the simulated thermometer's reading: 35.9-37.0 °C, or a
// fever when one is due.
func (t *Traffic) Forehead() float64 {
	if t.feverNext.Swap(false) {
		return 37.5 + rand.Float64()*1.2
	}
	return 35.9 + rand.Float64()*1.1
}

// Run scans with scan until ctx is done. A person with a fever rests and
// scans again: half of them still have it.
func (t *Traffic) Run(ctx context.Context, scan func(code string)) {
	var rechecks sync.WaitGroup
	defer rechecks.Wait()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.clk.After(t.mean/2 + rand.N(t.mean)):
		}
		code, fever := t.next(n)
		t.feverNext.Store(fever)
		scan(code)
		if fever {
			still := rand.IntN(2) == 0
			rechecks.Go(func() {
				select {
				case <-ctx.Done():
				case <-t.clk.After(t.rest):
					t.feverNext.Store(still)
					scan(code)
				}
			})
		}
	}
}
