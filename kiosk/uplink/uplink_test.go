package uplink

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// startBroker runs a real MQTT broker (mochi, as the hub embeds) on a free
// loopback port.
func startBroker(t *testing.T) string {
	t.Helper()
	s := mochi.New(&mochi.Options{InlineClient: false, Logger: slog.New(slog.DiscardHandler)})
	if err := s.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	l := listeners.NewTCP(listeners.Config{ID: "t", Address: "127.0.0.1:0"})
	if err := s.AddListener(l); err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	return "tcp://" + l.Address()
}

// standIn plays the hub's part on the wire: it holds what it receives and
// acks the highest contiguous sequence, and can drop batches to simulate
// loss between broker and hub.
type standIn struct {
	mu      sync.Mutex
	held    map[uint64]int // seq -> times received
	drop    int            // batches still to drop
	batches int
}

func startStandIn(t *testing.T, broker string, drop int) *standIn {
	t.Helper()
	h := &standIn{held: map[uint64]int{}, drop: drop}
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID("stand-in"))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("stand-in connect: %v", tok.Error())
	}
	tok := c.Subscribe(protocol.EntriesSubscription, 1, func(c mqtt.Client, m mqtt.Message) {
		b, err := protocol.DecodeBatch(m.Payload())
		if err != nil {
			t.Errorf("kiosk sent a bad batch: %v", err)
			return
		}
		h.mu.Lock()
		h.batches++
		if h.drop > 0 {
			h.drop--
			h.mu.Unlock()
			return
		}
		for _, e := range b.Entries {
			h.held[e.Seq]++
		}
		var n uint64
		for h.held[n+1] > 0 {
			n++
		}
		h.mu.Unlock()
		ack, _ := protocol.EncodeAck(protocol.Ack{Kiosk: b.Kiosk, Contiguous: n, Time: time.Now()})
		c.Publish(protocol.AckTopic(b.Site, b.Kiosk), 1, true, ack)
	})
	if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("stand-in subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return h
}

func runUplink(t *testing.T, broker string, j *journal.Journal, batch int) *Uplink {
	t.Helper()
	u := New(Config{
		Broker: broker, Site: "site-1", Kiosk: "gate-1",
		BatchSize: batch, MaxInFlight: 2, AckTimeout: 500 * time.Millisecond,
	}, j, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); u.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return u
}

func openJournal(t *testing.T) *journal.Journal {
	t.Helper()
	j, err := journal.Open(filepath.Join(t.TempDir(), "journal.db"), "gate-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func appendN(t *testing.T, j *journal.Journal, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		_, err := j.Append(context.Background(), protocol.Entry{
			Time: time.Now(), Kind: protocol.KindDelivery, Decision: protocol.DecisionRecord, Reasons: []string{},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func waitSynced(t *testing.T, j *journal.Journal, want uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := j.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.AckedSeq == want && st.Unsynced == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("journal acked %d of %d (unsynced %d) after 10s", st.AckedSeq, want, st.Unsynced)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSyncsEverythingInBatches(t *testing.T) {
	broker := startBroker(t)
	hub := startStandIn(t, broker, 0)
	j := openJournal(t)
	appendN(t, j, 25) // written before the link is up
	u := runUplink(t, broker, j, 10)
	waitSynced(t, j, 25)
	appendN(t, j, 7)
	u.Notify()
	waitSynced(t, j, 32)
	hub.mu.Lock()
	defer hub.mu.Unlock()
	for seq := uint64(1); seq <= 32; seq++ {
		if hub.held[seq] == 0 {
			t.Errorf("hub never received seq %d", seq)
		}
	}
	if !u.Online() || u.LastAck().IsZero() {
		t.Errorf("Online = %v, LastAck = %v; want online with an ack time", u.Online(), u.LastAck())
	}
}

func TestLostBatchIsResentAfterAckTimeout(t *testing.T) {
	broker := startBroker(t)
	hub := startStandIn(t, broker, 1) // the first batch never reaches the hub
	j := openJournal(t)
	appendN(t, j, 5)
	runUplink(t, broker, j, 10)
	waitSynced(t, j, 5)
	hub.mu.Lock()
	defer hub.mu.Unlock()
	if hub.batches < 2 {
		t.Errorf("hub saw %d batches, want the dropped one and its resend", hub.batches)
	}
}

func TestNoAckNoSync(t *testing.T) {
	broker := startBroker(t) // a broker with no hub behind it: PUBACKs but no acks
	j := openJournal(t)
	appendN(t, j, 3)
	u := runUplink(t, broker, j, 10)
	deadline := time.Now().Add(5 * time.Second)
	for !u.Online() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !u.Online() {
		t.Fatal("uplink never came online")
	}
	time.Sleep(700 * time.Millisecond) // longer than AckTimeout: several publishes, no ack
	if st, _ := j.Status(context.Background()); st.Unsynced != 3 {
		t.Fatalf("unsynced = %d with no hub, want 3: a broker PUBACK must not count as delivery", st.Unsynced)
	}
}
