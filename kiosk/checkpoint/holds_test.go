package checkpoint

import (
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

func TestHoldsReplay(t *testing.T) {
	t0 := time.Date(2026, 2, 1, 3, 0, 0, 0, time.UTC)
	r := Defaults()
	var h Holds
	h.Replay("P1", t0, []string{"pass_valid", protocol.ReasonFeverHold})
	h.Replay("P2", t0, []string{"pass_valid", protocol.ReasonFeverHold})
	h.Replay("P2", t0.Add(3*time.Minute), []string{"pass_valid", protocol.ReasonRecheckNormal})
	h.Replay("P3", t0, []string{"pass_valid", protocol.ReasonFeverHold})
	h.Replay("P3", t0.Add(time.Minute), []string{"pass_valid", protocol.ReasonFeverRest}) // too early: still held
	h.Replay("P4", t0, []string{"pass_valid", protocol.ReasonFeverHold})
	h.Replay("P4", t0.Add(3*time.Minute), []string{"pass_valid", protocol.ReasonFeverConfirmed})
	h.Replay("P5", t0, []string{"pass_valid", protocol.ReasonTemperatureNormal})
	now := t0.Add(4 * time.Minute)
	for key, want := range map[string]bool{"P1": true, "P2": false, "P3": true, "P4": false, "P5": false} {
		if got, _ := h.Recheck(key, now, r); got != want {
			t.Errorf("%s held = %v, want %v", key, got, want)
		}
	}
	if h.Len() != 2 {
		t.Errorf("Len = %d, want 2", h.Len())
	}
}
