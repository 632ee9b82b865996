package uplink

import (
	"crypto/ed25519"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

// TestBatchesAreSigned: over a real broker, every batch the uplink sends
// (entries, gzipped or not, and alerts) carries a signature that verifies
// against the kiosk's key, made from the journal's stored hashes; none
// verifies against another key.
func TestBatchesAreSigned(t *testing.T) {
	broker := testkit.StartBroker(t).URL
	testkit.StartHub(t, broker, testkit.HubOptions{})
	pub, priv, _ := ed25519.GenerateKey(nil)
	other, _, _ := ed25519.GenerateKey(nil)
	var mu sync.Mutex
	var got []protocol.Batch
	var alerts, bad int
	listen(t, broker, "gatepost/v1/site-1/gate-1/+", func(topic string, payload []byte) {
		if !strings.HasSuffix(topic, "/entries") && !strings.HasSuffix(topic, "/alerts") {
			return
		}
		b, err := protocol.DecodeBatchPayload(payload)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			bad++
			t.Errorf("batch on %s does not decode: %v", topic, err)
			return
		}
		if strings.HasSuffix(topic, "/alerts") {
			alerts++
		}
		got = append(got, b)
	})
	j := openJournal(t)
	appendN(t, j, 12)
	appendN(t, j, 1, protocoltest.Alert("fever_confirmed"))
	appendN(t, j, 12)
	start(t, Config{Broker: broker, BatchSize: 5, MaxInFlight: 2, AckTimeout: 500 * time.Millisecond, GzipAbove: 600, Key: priv}, j)
	waitSynced(t, j, 25)
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 || alerts == 0 || bad > 0 {
		t.Fatalf("received %d batches, %d on the alerts topic, %d bad; want some of each but bad", len(got), alerts, bad)
	}
	for _, b := range got {
		if err := protocol.VerifyBatch(pub, b); err != nil {
			t.Errorf("batch %d..%d: VerifyBatch = %v", b.Entries[0].Seq, b.Entries[len(b.Entries)-1].Seq, err)
		}
		if protocol.VerifyBatch(other, b) == nil {
			t.Errorf("batch %d..%d verifies against another key", b.Entries[0].Seq, b.Entries[len(b.Entries)-1].Seq)
		}
	}
}
