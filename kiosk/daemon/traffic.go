package daemon

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// traffic is who walks up to a gate whose devices are simulated: the
// demo's residents with their signed passes, now and then someone with a
// fever who rests and is measured again, now and then a QR code that is
// not a pass.
type traffic struct {
	mu        sync.Mutex
	people    []string    // pass tokens to scan; none: made-up codes
	feverNext atomic.Bool // the next reading is a fever
}

// SimulatePeople makes the simulated scanner scan these codes (signed pass
// tokens, for the demo) instead of made-up ones. It has an effect only
// with scanner.simulate = true.
func (d *Daemon) SimulatePeople(codes []string) {
	d.devices.traffic.mu.Lock()
	d.devices.traffic.people = append([]string(nil), codes...)
	d.devices.traffic.mu.Unlock()
}

// next picks the next person: their code, and whether they have a fever.
func (t *traffic) next(kiosk string, n int) (code string, fever bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.people) == 0 {
		return fmt.Sprintf("DEMO-%s-%d-%02d%02d-%d", kiosk, 1+rand.IntN(12), 1+rand.IntN(6), 1+rand.IntN(4), n), rand.IntN(20) == 0
	}
	if rand.IntN(25) == 0 {
		return fmt.Sprintf("https://pay.example.com/qr/%08x", rand.Uint32()), false // someone shows a payment code
	}
	return t.people[rand.IntN(len(t.people))], rand.IntN(15) == 0
}

// forehead is the simulated thermometer's reading: 35.9-37.0 °C, or a
// fever when one is due.
func (t *traffic) forehead() float64 {
	if t.feverNext.Swap(false) {
		return 37.5 + rand.Float64()*1.2
	}
	return 35.9 + rand.Float64()*1.1
}

// simulateTraffic makes the simulated scanner scan at random gaps around
// Scanner.SimulateEvery. A person with a fever rests for the rules'
// re-measure time and scans again: half of them still have it.
func (d *devices) simulateTraffic(ctx context.Context) {
	if d.simScan == nil {
		return
	}
	var rechecks sync.WaitGroup
	defer rechecks.Wait()
	mean := d.cfg.Scanner.SimulateEvery.D()
	rest := d.cfg.Rules.RecheckAfter.D() + mean
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(mean/2 + rand.N(mean)):
		}
		code, fever := d.traffic.next(d.cfg.Kiosk, n)
		d.traffic.feverNext.Store(fever)
		d.simulateScan(code)
		if fever {
			still := rand.IntN(2) == 0
			rechecks.Go(func() {
				select {
				case <-ctx.Done():
				case <-time.After(rest):
					d.traffic.feverNext.Store(still)
					d.simulateScan(code)
				}
			})
		}
	}
}

func (d *devices) simulateScan(code string) {
	if err := d.simScan.Send(code); err != nil {
		d.log.Warn("simulated scanner", "err", err)
	}
}
