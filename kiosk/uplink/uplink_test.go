package uplink

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/gatepost/gatepost/internal/clock"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// paho's Disconnect leaves a goroutine that ends after its quiesce.
		goleak.IgnoreAnyFunction("github.com/eclipse/paho%2emqtt%2egolang.(*client).Disconnect.func1"))
}

// start runs an uplink for kiosk gate-1 of site-1 until the test ends.
func start(t *testing.T, cfg Config, j *journal.Journal) *Uplink {
	t.Helper()
	cfg.Site, cfg.Kiosk = "site-1", "gate-1"
	u := New(cfg, j, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); u.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return u
}

func runUplink(t *testing.T, broker string, j *journal.Journal, batch int) *Uplink {
	t.Helper()
	return start(t, Config{Broker: broker, BatchSize: batch, MaxInFlight: 2, AckTimeout: 500 * time.Millisecond}, j)
}

// advance moves c on by d and waits until the send loop has taken
// another turn, so that it has seen the time (the loop wakes on its
// ticker, every AckTimeout/4).
func advance(t *testing.T, u *Uplink, c *clock.Fake, d time.Duration) {
	t.Helper()
	n := u.rounds.Load()
	c.Advance(d)
	testkit.Eventually(t, "the send loop saw the time", func() bool { return u.rounds.Load() > n })
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

func appendN(t *testing.T, j *journal.Journal, n int, opts ...protocoltest.Option) {
	t.Helper()
	if len(opts) == 0 {
		opts = []protocoltest.Option{protocoltest.Kind(protocol.KindDelivery), protocoltest.Decision(protocol.DecisionRecord)}
	}
	for i := 0; i < n; i++ {
		if _, err := j.Append(context.Background(), protocoltest.Entry(opts...)); err != nil {
			t.Fatal(err)
		}
	}
}

func synced(t *testing.T, j *journal.Journal, want uint64) bool {
	t.Helper()
	st, err := j.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.AckedSeq == want && st.Unsynced == 0
}

func waitSynced(t *testing.T, j *journal.Journal, want uint64) {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("journal acked up to %d", want), func() bool { return synced(t, j, want) })
}

var listenerIDs atomic.Int64

// listen subscribes a plain client to filter and hands every message to f.
func listen(t *testing.T, broker, filter string, f func(topic string, payload []byte)) mqtt.Client {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID(fmt.Sprintf("listener-%d", listenerIDs.Add(1))))
	if tok := c.Connect(); !tok.WaitTimeout(testkit.Wait) || tok.Error() != nil {
		t.Fatalf("listener connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	if filter != "" {
		tok := c.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) { f(m.Topic(), m.Payload()) })
		if !tok.WaitTimeout(testkit.Wait) || tok.Error() != nil {
			t.Fatalf("listener subscribe: %v", tok.Error())
		}
	}
	return c
}

func TestSyncsEverythingInBatches(t *testing.T) {
	broker := testkit.StartBroker(t).URL
	hub := testkit.StartHub(t, broker, testkit.HubOptions{})
	j := openJournal(t)
	appendN(t, j, 25) // written before the link is up
	u := runUplink(t, broker, j, 10)
	waitSynced(t, j, 25)
	appendN(t, j, 7)
	u.Notify()
	waitSynced(t, j, 32)
	for seq := uint64(1); seq <= 32; seq++ {
		if hub.Held(seq) == "" {
			t.Errorf("hub never received seq %d", seq)
		}
	}
	if !u.Online() || u.LastAck().IsZero() {
		t.Errorf("Online = %v, LastAck = %v; want online with an ack time", u.Online(), u.LastAck())
	}
}

// A hub from before journal ids acks without naming a journal: its acks
// count too.
func TestSyncsWithAHubOfUnnamedAcks(t *testing.T) {
	broker := testkit.StartBroker(t).URL
	testkit.StartHub(t, broker, testkit.HubOptions{Unnamed: true})
	j := openJournal(t)
	appendN(t, j, 12)
	runUplink(t, broker, j, 5)
	waitSynced(t, j, 12)
}

func TestLostBatchIsResentAfterAckTimeout(t *testing.T) {
	broker := testkit.StartBroker(t).URL
	hub := testkit.StartHub(t, broker, testkit.HubOptions{Drop: 1}) // the first batch never reaches the hub
	j := openJournal(t)
	appendN(t, j, 5)
	clk := clock.NewFake(time.Time{})
	const ackTimeout = time.Minute
	start(t, Config{Broker: broker, BatchSize: 10, MaxInFlight: 2, AckTimeout: ackTimeout, Clock: clk}, j)
	testkit.Eventually(t, "the first batch sent", func() bool { return hub.Batches() >= 1 })
	if synced(t, j, 5) {
		t.Fatal("synced although the hub never got the batch")
	}
	testkit.Eventually(t, "resent after the ack timeout and synced", func() bool {
		clk.Advance(ackTimeout / 4)
		return synced(t, j, 5)
	})
	if hub.Batches() < 2 {
		t.Errorf("hub saw %d batches, want the dropped one and its resend", hub.Batches())
	}
}

func TestNoAckNoSync(t *testing.T) {
	broker := testkit.StartBroker(t).URL // a broker with no hub behind it: PUBACKs but no acks
	j := openJournal(t)
	appendN(t, j, 3)
	clk := clock.NewFake(time.Time{})
	const ackTimeout = time.Minute
	u := start(t, Config{Broker: broker, BatchSize: 10, MaxInFlight: 2, AckTimeout: ackTimeout, Clock: clk}, j)
	testkit.Eventually(t, "online and the batch sent", func() bool { return u.Online() && u.Stats().Batches >= 1 })
	// Ack timeouts pass: the batch is sent again, and again, never acked.
	testkit.Eventually(t, "two resends", func() bool {
		clk.Advance(ackTimeout / 4)
		return u.Stats().Resends >= 2 && u.Stats().Batches >= 3
	})
	if st, _ := j.Status(context.Background()); st.Unsynced != 3 {
		t.Fatalf("unsynced = %d with no hub, want 3: a broker PUBACK must not count as delivery", st.Unsynced)
	}
}

// A hub draining a backlog acks late but loses nothing: once its late
// acks are measured the kiosk waits for them, past AckTimeout, instead of
// sending its window again every AckTimeout (each copy one more batch in
// the hub's queue).
func TestSlowHubIsWaitedFor(t *testing.T) {
	broker := testkit.StartBroker(t).URL
	hub := testkit.StartHub(t, broker, testkit.HubOptions{})
	j := openJournal(t)
	clk := clock.NewFake(time.Time{})
	const ackTimeout = time.Minute
	u := start(t, Config{Broker: broker, BatchSize: 10, MaxInFlight: 2, AckTimeout: ackTimeout, Clock: clk}, j)
	testkit.Eventually(t, "online", u.Online)

	// The first batch is acked 50 s after it was sent.
	hub.Pause()
	appendN(t, j, 10)
	u.Notify()
	testkit.Eventually(t, "the first entries sent", func() bool { return u.Stats().Entries >= 10 })
	advance(t, u, clk, 50*time.Second)
	hub.Resume()
	waitSynced(t, j, 10)

	// The next is acked 100 s after it was sent: later than AckTimeout,
	// within the wait learned from the first (50 s + 4 x 25 s).
	hub.Pause()
	appendN(t, j, 10)
	u.Notify()
	testkit.Eventually(t, "the next entries sent", func() bool { return u.Stats().Entries >= 20 })
	for range 100 / 15 {
		advance(t, u, clk, 15*time.Second)
	}
	if st := u.Stats(); st.Resends != 0 || st.Entries != 20 {
		t.Fatalf("after 90 s without an ack: %d resends, %d entries sent; want none sent again", st.Resends, st.Entries)
	}
	hub.Resume()
	waitSynced(t, j, 20)
	for seq := uint64(1); seq <= 20; seq++ {
		if n := hub.Times(seq); n != 1 {
			t.Errorf("the hub received seq %d %d times, want once", seq, n)
		}
	}
}
