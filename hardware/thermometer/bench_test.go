package thermometer_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hardware/sim"
	"github.com/gatepost/gatepost/hardware/thermometer"
)

// BenchmarkReadOverPTY measures one reading end to end (request, the
// simulator's answer, decoding) per protocol on a pseudo-terminal: the
// floor under a check's wait for its temperature. Real modules add their
// own measuring time and the line's transfer time.
func BenchmarkReadOverPTY(b *testing.B) {
	for _, pc := range protocolCases {
		if pc.settings.Driver == "line" {
			continue // the line module streams at its own interval
		}
		b.Run(pc.settings.Driver, func(b *testing.B) {
			dev, err := sim.NewThermometer(sim.ThermometerOptions{Protocol: pc.protocol})
			if err != nil {
				b.Fatal(err)
			}
			defer dev.Close()
			th, err := thermometer.Open(dev.Path(), pc.settings)
			if err != nil {
				b.Fatal(err)
			}
			defer th.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for b.Loop() {
				if _, err := th.Read(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
