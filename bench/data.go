package main

import (
	"fmt"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// entry is the i-th benchmark entry, in a gate's usual mix: mostly
// residents' checks with a reading and their unit, one in five a visitor,
// one in twenty a parcel drop, one in a hundred a fever alert. The mix
// matters at the hub, whose partial indexes hold only some kinds.
func entry(kiosk string, seq uint64) protocol.Entry {
	obj, amb := 36.4+float64(seq%7)/10, 22.5
	unit := fmt.Sprintf("%d-%03d", seq%40+1, seq%700+101)
	e := protocol.Entry{
		Kiosk: kiosk, Seq: seq,
		ID:          fmt.Sprintf("0190d6e4-7a4b-7cc0-8b8e-%012x", seq),
		Time:        time.Date(2026, 2, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(seq) * time.Second),
		Kind:        protocol.KindCheck,
		Pass:        fmt.Sprintf("R%07d", seq%5000),
		Unit:        unit,
		Temperature: &protocol.Reading{ObjectC: obj, AmbientC: &amb, ScreenedC: obj},
		Decision:    protocol.DecisionAllow,
		Reasons:     []string{"pass_valid", "temperature_normal"},
	}
	switch {
	case seq%100 == 0:
		e.Temperature.ObjectC, e.Temperature.ScreenedC = 38.2, 38.2
		e.Decision, e.Reasons = protocol.DecisionAlert, []string{"pass_valid", "fever_confirmed"}
	case seq%20 == 0:
		e.Kind, e.Decision, e.Reasons, e.Pass, e.Temperature = protocol.KindDelivery, protocol.DecisionRecord, nil, "", nil
		e.Count = int(seq%3) + 1
	case seq%5 == 0:
		e.Kind, e.Pass = protocol.KindVisitor, ""
		e.Reasons = []string{"visitor_registered", "temperature_normal"}
		e.Visitor = &protocol.Visitor{Name: "王小明", Contact: "13812345678", From: "徐汇区", Visiting: unit, Purpose: "探亲"}
	}
	return e
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
