package daemon

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
)

// TestReplacedJournalProblemOnTheScreen: the hub holds another journal
// of this kiosk id, and this journal was acknowledged before, so it may
// not be renumbered. The guard's screen says so beside the disk warning,
// and nothing is marked synced.
func TestReplacedJournalProblemOnTheScreen(t *testing.T) {
	broker := testkit.StartBroker(t)
	cfg := config4(t)
	cfg.MQTT.Broker = broker.URL
	cfg.Retention.MinFreeBytes = 1 << 62 // "nearly full" too: both sentences show
	j, err := journal.Open(filepath.Join(cfg.DataDir, JournalFile), cfg.Kiosk)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := j.Append(context.Background(), protocol.Entry{Time: time.Now(), Kind: protocol.KindDelivery,
			Decision: protocol.DecisionRecord, Reasons: []string{}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := j.Ack(context.Background(), 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	j.Close()

	// The hub's retained ack names another journal.
	hub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(cfg.MQTT.Broker).SetClientID("hub"))
	if tok := hub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	ack, _ := protocol.EncodeAck(protocol.Ack{Kiosk: cfg.Kiosk, Contiguous: 40, Highest: 40,
		Journal: "0190d6e4-7a4b-7cc0-8b8e-00000000000a", Time: time.Now()})
	if tok := hub.Publish(protocol.AckTopic(cfg.Site, cfg.Kiosk), 1, true, ack); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	hub.Disconnect(0)

	d := openDaemon(t, cfg, nil)
	runDaemon(t, d)
	testkit.Eventually(t, "the disk and the replaced journal in the screen's warning", func() bool {
		w := d.screen.State().Warning
		return strings.Contains(w, "Disk nearly full") && strings.Contains(w, "Check that no other kiosk uses the id "+cfg.Kiosk)
	})
	st, err := d.journal.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.AckedSeq != 1 || st.Unsynced != 2 {
		t.Errorf("journal = %+v, want acked 1 and 2 unsynced: nothing applied from another journal's ack", st)
	}
}
