package testkit

import (
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

// The stand-in hub holds what it receives, acks the contiguous position
// naming its journal, and refuses a batch from another journal.
func TestStandInHubAcksLikeTheHub(t *testing.T) {
	b := StartBroker(t)
	hub := StartHub(t, b.URL, HubOptions{})
	kiosk := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL).SetClientID("kiosk"))
	if tok := kiosk.Connect(); !tok.WaitTimeout(Wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer kiosk.Disconnect(0)
	acks := make(chan protocol.Ack, 16)
	if tok := kiosk.Subscribe(protocol.AckTopic("site-1", "gate-1"), 1, func(_ paho.Client, m paho.Message) {
		if a, err := protocol.DecodeAck(m.Payload()); err == nil {
			acks <- a
		}
	}); !tok.WaitTimeout(Wait) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	send := func(journal string, seqs ...uint64) protocol.Ack {
		t.Helper()
		batch := protocol.Batch{Kiosk: "gate-1", Site: "site-1", Journal: journal, Sent: protocoltest.T0}
		for _, s := range seqs {
			batch.Entries = append(batch.Entries, protocoltest.Entry(protocoltest.Kiosk("gate-1"), protocoltest.Seq(s)))
		}
		p, err := protocol.EncodeBatchPayload(batch, 0)
		if err != nil {
			t.Fatal(err)
		}
		kiosk.Publish(protocol.EntriesTopic("site-1", "gate-1"), 1, false, p)
		select {
		case a := <-acks:
			return a
		case <-time.After(Wait):
			t.Fatal("no ack")
		}
		return protocol.Ack{}
	}
	const j, other = "0190d6e4-7a4b-7cc0-8b8e-00000000000a", "0190d6e4-7a4b-7cc0-8b8e-00000000000b"
	if a := send(j, 1, 2); a.Contiguous != 2 || a.Journal != j || a.Highest != 2 {
		t.Errorf("ack after 1..2 = %+v, want contiguous 2 of %s", a, j)
	}
	if a := send(j, 4); a.Contiguous != 2 || a.Highest != 4 {
		t.Errorf("ack after a gap = %+v, want contiguous 2, highest 4", a)
	}
	if a := send(other, 3); a.Contiguous != 2 || a.Journal != j || hub.Refused() != 1 {
		t.Errorf("ack after another journal's batch = %+v (refused %d), want still 2 of %s, one refused", a, hub.Refused(), j)
	}
	if hub.Held(1) == "" || hub.Held(3) != "" || hub.Batches() != 3 {
		t.Errorf("held 1 %q, 3 %q, batches %d; want 1 held, 3 not, 3 batches", hub.Held(1), hub.Held(3), hub.Batches())
	}
}
