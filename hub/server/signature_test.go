package server

import (
	"crypto/ed25519"
	"slices"
	"strings"
	"testing"

	"github.com/gatepost/gatepost/hub/operators"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// Over the real broker, an enrolled kiosk's batch signed with another
// key, unsigned, or changed after signing is refused: nothing stored, no
// ack, counted under reason signature, and a console alert raised. Its
// own signed batch is then taken.
func TestUnverifiedBatchRefusedOverBroker(t *testing.T) {
	s := open(t, Config{})
	k := newKiosk(t, s, s.BrokerURL())
	_, other, _ := ed25519.GenerateKey(nil)
	resign := func(priv ed25519.PrivateKey, edit func(*protocol.Batch)) []byte {
		b, err := protocol.DecodeBatch(batch(t, 2))
		if err != nil {
			t.Fatal(err)
		}
		b.Sig = ""
		if priv != nil {
			if err := protocol.SignBatch(priv, &b); err != nil {
				t.Fatal(err)
			}
		}
		if edit != nil {
			edit(&b)
		}
		data, err := protocol.EncodeBatch(b)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	k.publish(t, resign(other, nil))
	k.publish(t, resign(nil, nil))
	k.publish(t, resign(kioskPriv, func(b *protocol.Batch) { b.Entries[0].Temperature.ScreenedC = 35.9 }))
	testkit.Eventually(t, "three batches refused for the signature", func() bool {
		return s.IngestStats().Refused[protocol.RefusedSignature] == 3
	})
	if es, err := s.store.Entries(t.Context(), records.Query{}); err != nil || len(es) != 0 {
		t.Fatalf("hub holds %d entries (%v) after refused batches, want none", len(es), err)
	}
	select {
	case r := <-k.acks:
		t.Fatalf("a refused batch was acked: %+v", r.ack)
	default:
	}
	testkit.Eventually(t, "a console alert for the signature", func() bool {
		list, err := s.operators.Alerts(t.Context(), 10, operators.StateOpen)
		return err == nil && slices.ContainsFunc(list, func(a operators.Alert) bool {
			return a.Kind == protocol.AlertRefused && strings.Contains(a.Detail, "not signed with the key")
		})
	})
	k.publish(t, batch(t, 2))
	if got := k.nextAck(t); got.ack.Contiguous != 2 {
		t.Fatalf("ack of the kiosk's own batch = %+v, want contiguous 2", got.ack)
	}
}
