package uplink

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/kiosk/enrollment/enrollmenttest"
	"github.com/gatepost/gatepost/kiosk/journal"
	"github.com/gatepost/gatepost/protocol"
	"github.com/gatepost/gatepost/protocol/protocoltest"
)

func TestAlertJumpsTheBacklog(t *testing.T) {
	broker := testkit.StartBroker(t).URL // no hub: nothing is acked, the backlog stays
	j := openJournal(t)
	appendN(t, j, 300)
	alert, err := j.Append(context.Background(), protocoltest.Entry(protocoltest.Alert(protocol.ReasonFeverConfirmed)))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var alerts []uint64
	var highestBatch uint64
	listen(t, broker, "gatepost/v1/site-1/gate-1/+", func(topic string, p []byte) {
		b, err := protocol.DecodeBatchPayload(p)
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if topic == protocol.AlertsTopic("site-1", "gate-1") {
			alerts = append(alerts, b.Entries[0].Seq)
		} else {
			highestBatch = max(highestBatch, b.Entries[len(b.Entries)-1].Seq)
		}
	})
	u := New(Config{Broker: broker, Site: "site-1", Kiosk: "gate-1", BatchSize: 10, MaxInFlight: 1,
		AckTimeout: time.Minute, DownlinkKey: enrollmenttest.DownlinkKey().Public().(ed25519.PublicKey), GzipAbove: 512}, j, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); u.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	// The alert goes out first, then the first batch of the backlog: wait
	// for both before judging their order and the batch's compression.
	testkit.Eventually(t, "alert and a batch published", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(alerts) == 1 && highestBatch > 0
	})
	mu.Lock()
	defer mu.Unlock()
	if alerts[0] != alert.Seq || highestBatch >= alert.Seq {
		t.Errorf("alert seq %d arrived with the backlog at %d; want seq %d ahead of the backlog", alerts[0], highestBatch, alert.Seq)
	}
	if st := u.Stats(); st.Compressed == 0 {
		t.Errorf("Stats = %+v, want compressed batches above 512 bytes", st)
	}
	if st, _ := j.Status(context.Background()); st.Unsynced != 301 {
		t.Errorf("unsynced = %d, want 301: an alert sent is not an alert acked", st.Unsynced)
	}
}

func TestDownlinkStoredNewestOnly(t *testing.T) {
	broker := testkit.StartBroker(t).URL
	pub := listen(t, broker, "", nil)
	put := func(kiosk string, version uint64, fever float64) {
		d := protocol.Downlink{Kind: protocol.DownlinkConfig, Site: "site-1", Kiosk: kiosk, Version: version,
			Issued: protocoltest.T0, Payload: json.RawMessage(`{"fever_c":` + json.Number(formatF(fever)).String() + `}`)}
		p, err := protocol.SignDownlink(d, enrollmenttest.DownlinkKey())
		if err != nil {
			t.Fatal(err)
		}
		tok := pub.Publish(protocol.DownlinkTopic("site-1", kiosk, protocol.DownlinkConfig), 1, true, p)
		if !tok.WaitTimeout(testkit.Wait) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	put("", 4, 37.6)     // site-wide, newer
	put("gate-1", 2, 38) // this kiosk's, older: must not win
	put("gate-9", 9, 39) // another kiosk's: never seen
	var mu sync.Mutex
	var applied []uint64
	j := openJournal(t)
	var statuses []protocol.Status
	listen(t, broker, protocol.StatusTopic("site-1", "gate-1"), func(_ string, p []byte) {
		if s, err := protocol.DecodeStatus(p); err == nil {
			mu.Lock()
			statuses = append(statuses, s)
			mu.Unlock()
		}
	})
	u := New(Config{Broker: broker, Site: "site-1", Kiosk: "gate-1", BatchSize: 10, MaxInFlight: 1,
		AckTimeout: time.Minute, DownlinkKey: enrollmenttest.DownlinkKey().Public().(ed25519.PublicKey),
		OnDownlink: func(d protocol.Downlink) {
			mu.Lock()
			applied = append(applied, d.Version)
			mu.Unlock()
		},
		Status: func() protocol.Status {
			v, _ := j.Downlinks(context.Background())
			return protocol.Status{Downlink: v}
		},
	}, j, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); u.Run(ctx) }()
	testkit.Eventually(t, "downlink applied and reported", func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := len(statuses)
		return len(applied) >= 1 && n > 0 && statuses[n-1].Online && statuses[n-1].Downlink["config"] == 4
	})
	cancel()
	<-done
	testkit.Eventually(t, "offline status after a clean stop", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return !statuses[len(statuses)-1].Online
	})
	mu.Lock()
	defer mu.Unlock()
	// Retained messages of two topics arrive in either order: v2 may be
	// applied first, but never after v4.
	for i := range applied {
		if (i > 0 && applied[i] <= applied[i-1]) || applied[i] == 9 {
			t.Errorf("applied versions %v, want increasing, ending at 4, never 9", applied)
		}
	}
	if applied[len(applied)-1] != 4 {
		t.Errorf("applied versions %v, want the last to be 4", applied)
	}
	if v, p, err := j.Downlink(context.Background(), protocol.DownlinkConfig); v != 4 || err != nil {
		t.Errorf("journal holds config v%d %s (%v), want v4", v, p, err)
	}
	// Every presence message names the same connection, so that the hub
	// can tell this connection's will from a stale one.
	for _, s := range statuses {
		if s.Session == "" || s.Session != statuses[0].Session {
			t.Errorf("presence sessions %+v, want one non-empty session throughout", statuses)
			break
		}
	}
}

func formatF(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

var _ Journal = (*journal.Journal)(nil)

// bounded number at a time, batches and acks keep moving behind them.
func TestAlertStormStillDrains(t *testing.T) {
	broker := testkit.StartBroker(t).URL
	testkit.StartHub(t, broker, testkit.HubOptions{})
	j := openJournal(t)
	for i := 0; i < 500; i++ {
		if _, err := j.Append(context.Background(), protocoltest.Entry(protocoltest.Alert(protocol.ReasonFeverConfirmed))); err != nil {
			t.Fatal(err)
		}
	}
	u := runUplink(t, broker, j, 100)
	waitSynced(t, j, 500)
	if st := u.Stats(); st.Alerts == 0 || st.Batches == 0 {
		t.Errorf("Stats = %+v, want alerts and batches both sent", st)
	}
}

// Garbage on the ack and downlink topics is counted and ignored: nothing
// is marked synced, nothing stored, and the link keeps working. A
// downlink signed by the hub but on another kind's topic is misaddressed.
func TestBadMessagesCountedAndIgnored(t *testing.T) {
	broker := testkit.StartBroker(t).URL
	pub := listen(t, broker, "", nil)
	j := openJournal(t)
	appendN(t, j, 3)
	u := start(t, Config{Broker: broker, BatchSize: 10, MaxInFlight: 2, AckTimeout: 500 * time.Millisecond,
		DownlinkKey: enrollmenttest.DownlinkKey().Public().(ed25519.PublicKey)}, j)
	testkit.Eventually(t, "online", u.Online)
	misplaced, err := protocol.SignDownlink(protocol.Downlink{Kind: protocol.DownlinkConfig, Site: "site-1", Version: 9,
		Issued: protocoltest.T0, Payload: json.RawMessage(`{}`)}, enrollmenttest.DownlinkKey())
	if err != nil {
		t.Fatal(err)
	}
	for topic, payload := range map[string]string{
		protocol.AckTopic("site-1", "gate-1"):                                   `{"v":1,"kiosk":"gate-1","contiguous":"three"}`,
		protocol.DownlinkTopic("site-1", "", protocol.DownlinkConfig):           `{"v":1,"kind":"config"`,
		protocol.DownlinkTopic("site-1", "gate-1", protocol.DownlinkStatusList): string(misplaced),
	} {
		if tok := pub.Publish(topic, 1, false, payload); !tok.WaitTimeout(testkit.Wait) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	testkit.Eventually(t, "two bad messages and an unsigned downlink counted", func() bool {
		st := u.Stats()
		return st.BadMessages == 2 && st.DownlinksRefused == 1
	})
	if st, _ := j.Status(context.Background()); st.Unsynced != 3 {
		t.Errorf("unsynced = %d, want 3", st.Unsynced)
	}
	if vs, _ := j.Downlinks(context.Background()); len(vs) != 0 {
		t.Errorf("downlinks stored from bad messages: %v", vs)
	}
	testkit.StartHub(t, broker, testkit.HubOptions{})
	u.Notify()
	waitSynced(t, j, 3)
}
