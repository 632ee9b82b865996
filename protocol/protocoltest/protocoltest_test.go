package protocoltest

import (
	"testing"

	"github.com/gatepost/gatepost/protocol"
)

func TestEntryIsValid(t *testing.T) {
	for name, e := range map[string]protocol.Entry{
		"default":  Entry(Kiosk("gate-1"), Seq(1)),
		"alert":    Entry(Kiosk("gate-1"), Seq(2), Alert(protocol.ReasonFeverConfirmed), Celsius(38.2)),
		"delivery": Entry(Kiosk("gate-1"), Seq(3), Kind(protocol.KindDelivery), Decision(protocol.DecisionRecord), With(func(e *protocol.Entry) { e.Count = 2 })),
	} {
		if err := e.Validate(); err != nil {
			t.Errorf("%s: Entry() = %+v: Validate: %v", name, e, err)
		}
	}
	a, b := Entry(Kiosk("gate-1"), Seq(1)), Entry(Kiosk("gate-10"), Seq(1))
	if a.ID == b.ID || a.ID == "" {
		t.Errorf("ids %q and %q, want distinct ids for distinct kiosks", a.ID, b.ID)
	}
	if got := Entry(Seq(5)).Time; !got.Equal(T0.Add(5e9)) {
		t.Errorf("Seq(5) time = %v, want T0+5s", got)
	}
}
