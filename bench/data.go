package main

import (
	"fmt"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// entry is the i-th benchmark entry: a typical check with a reading.
func entry(kiosk string, seq uint64) protocol.Entry {
	obj, amb := 36.4+float64(seq%7)/10, 22.5
	return protocol.Entry{
		Kiosk: kiosk, Seq: seq,
		ID:          fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", seq),
		Time:        time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Second),
		Kind:        protocol.KindCheck,
		Scan:        fmt.Sprintf("GP1:resident:%d-%03d:7f3a9c2e", seq%40, seq%700),
		Temperature: &protocol.Reading{ObjectC: obj, AmbientC: &amb, ScreenedC: obj},
		Decision:    protocol.DecisionAllow,
		Reasons:     []string{"temperature_normal"},
	}
}

// result is one benchmark's figure against its baseline.
type result struct {
	name, unit       string
	ours, baseline   float64
	higherIsBetter   bool
	detail, baseName string
}

func (r result) print(w interface{ Write([]byte) (int, error) }) {
	ratio := r.ours / r.baseline
	if !r.higherIsBetter {
		ratio = r.baseline / r.ours
	}
	fmt.Fprintf(w, "%-7s ours %.1f %s | %s %.1f %s | ratio %.2fx (>1 is better for ours)\n        %s\n",
		r.name, r.ours, r.unit, r.baseName, r.baseline, r.unit, ratio, r.detail)
}
