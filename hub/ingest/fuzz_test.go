package ingest

import (
	"errors"
	"testing"

	"github.com/gatepost/gatepost/protocol"
)

// FuzzHandle feeds Handle arbitrary topics and payloads: it must never
// panic, a refused message must leave the store as it was and publish
// nothing, and an accepted one must publish exactly one ack.
func FuzzHandle(f *testing.F) {
	topic := protocol.EntriesTopic(site, kiosk)
	f.Add(topic, wire(f, site, kiosk, 1, 2, 3))
	f.Add(topic, wire(f, site, kiosk, 5))
	f.Add(topic, wire(f, site, "gate-2", 1))
	f.Add(protocol.EntriesTopic(site, "gate-2"), wire(f, site, kiosk, 1))
	f.Add("gatepost/v1/+/#", []byte(`{"v":1}`))
	f.Add(topic, []byte(`{"v":1,"kiosk":"gate-1","site":"huamu-1","sent":"2026-02-01T08:33:00Z","entries":[{}]}`))
	f.Add(topic, []byte(`{"v":1,"kiosk":"gate-1","site":"huamu-1","sent":"x","entries":null}`))
	f.Add(topic, []byte("[]"))
	f.Add("", []byte{})

	h := newHarness(f)
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		h.acks = nil
		h.log.Reset()
		before := h.snapshot(t)
		err := h.in.Handle(t.Context(), topic, payload)
		switch {
		case errors.Is(err, ErrRejected):
			if after := h.snapshot(t); after != before {
				t.Fatalf("refused message changed the store: %v", err)
			}
			if len(h.acks) != 0 {
				t.Fatalf("refused message was acked: %+v", h.acks)
			}
		case err != nil:
			t.Fatalf("Handle(%q) = %v, want nil or ErrRejected", topic, err)
		default:
			if len(h.acks) != 1 {
				t.Fatalf("accepted message published %d acks, want 1", len(h.acks))
			}
		}
	})
}
