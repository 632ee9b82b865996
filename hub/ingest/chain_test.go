package ingest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

// chainedWire is a batch of entries 1..n chained as a kiosk's journal
// chains them, with edit applied to the entry at seq edited (0: none)
// before the entries after it are chained.
func chainedWire(tb testing.TB, n, from uint64, edit func(*protocol.Entry)) []byte {
	tb.Helper()
	b := protocol.Batch{Kiosk: kiosk, Site: site, Sent: t0.Add(time.Hour)}
	prev := protocol.Genesis
	for seq := uint64(1); seq <= n; seq++ {
		e := entry(kiosk, seq)
		e.Prev = protocol.HashText(prev)
		if seq == from && edit != nil {
			edit(&e)
		}
		prev = protocol.EntryHash(prev, e)
		if seq >= from {
			b.Entries = append(b.Entries, e)
		}
	}
	data, err := protocol.EncodeBatch(b)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// A batch whose chain does not continue the entries held is refused as
// a security event under its own reason, with a log line a person can
// act on, and acked with nothing.
func TestBrokenChainRefused(t *testing.T) {
	h, _, alarms, _ := strictHarness(t)
	topic := protocol.EntriesTopic(site, kiosk)
	if err := h.in.Handle(t.Context(), topic, chainedWire(t, 3, 1, nil)); err != nil {
		t.Fatalf("a chained batch: %v", err)
	}
	h.acks = nil
	forged := chainedWire(t, 5, 4, func(e *protocol.Entry) { e.Prev = protocol.HashText([32]byte{1}) })
	if err := h.in.Handle(t.Context(), topic, forged); !errors.Is(err, ErrRejected) {
		t.Fatalf("a batch not continuing the chain: %v, want refused", err)
	}
	if want := refusedCounts(protocol.RefusedChain, 1); !equalCounts(h.in.Stats().Refused, want) {
		t.Errorf("Refused = %v, want %v", h.in.Stats().Refused, want)
	}
	if len(*alarms) != 1 || (*alarms)[0].reason != protocol.RefusedChain {
		t.Errorf("alarms = %+v, want one for the chain", *alarms)
	}
	if len(h.acks) != 0 {
		t.Errorf("acks = %+v, want none", h.acks)
	}
	if log := h.log.String(); !strings.Contains(log, "hub verify") || !strings.Contains(log, "reason=chain") {
		t.Errorf("log does not say what to do:\n%s", log)
	}
	// The real continuation is still taken.
	if err := h.in.Handle(t.Context(), topic, chainedWire(t, 5, 4, nil)); err != nil {
		t.Fatalf("the true continuation: %v", err)
	}
}
