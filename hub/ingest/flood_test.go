package ingest

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gatepost/gatepost/hub/link"
	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/internal/testkit"
	"github.com/gatepost/gatepost/protocol"
)

// syncBuffer is a log buffer safe to read while the hub writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func kioskClient(t *testing.T, url, id string) paho.Client {
	t.Helper()
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(id).
		SetAutoReconnect(false).SetConnectTimeout(testkit.Wait))
	if tok := c.Connect(); !tok.WaitTimeout(testkit.Wait) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", id, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(250) })
	return c
}

// The flood, on a real broker and the hub's real link: one kiosk
// publishes 2,000 one-entry batches as fast as it can while another
// sends alerts. The flood is cut at the link by the kiosk's rate limit
// (the hub's clock stands still, so exactly its burst gets through), the
// rest is counted and logged once, nothing of the queue overflows, and
// the other kiosk's alerts are stored at once.
func TestFloodDoesNotHoldBackAnotherKiosksAlerts(t *testing.T) {
	b := testkit.StartBroker(t)
	h := newHarness(t)
	var log syncBuffer
	h.in.Logger = slog.New(slog.NewTextHandler(&log, nil))
	var mu sync.Mutex
	var alarms []string
	h.in.Alarm = func(_, kiosk, reason, _ string) {
		mu.Lock()
		defer mu.Unlock()
		alarms = append(alarms, kiosk+" "+reason)
	}
	l, err := link.Dial(link.Config{Broker: b.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	select {
	case <-l.Subscribed():
	case <-time.After(testkit.Wait):
		t.Fatal("the link did not subscribe")
	}
	h.in.Publish = l.Publish
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); h.in.Run(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done })

	const flood, alerts = 2000, 5
	flooder, other := kioskClient(t, b.URL, "gate-1"), kioskClient(t, b.URL, "gate-2")
	payloads := make([][]byte, flood)
	for i := range payloads {
		payloads[i] = wire(t, site, kiosk, uint64(i+1))
	}
	toks := make([]paho.Token, 0, flood)
	var alertsSent time.Time
	for i, p := range payloads {
		toks = append(toks, flooder.Publish(protocol.EntriesTopic(site, kiosk), 1, false, p))
		if i == flood/4 { // the flood is under way
			for seq := uint64(1); seq <= alerts; seq++ {
				if tok := other.Publish(protocol.AlertsTopic(site, "gate-2"), 1, false, wire(t, site, "gate-2", seq)); !tok.WaitTimeout(testkit.Wait) || tok.Error() != nil {
					t.Fatalf("alert %d: %v", seq, tok.Error())
				}
			}
			alertsSent = time.Now()
		}
	}
	held := func(k string) int {
		list, err := h.store.Entries(t.Context(), records.Query{Kiosk: k})
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	testkit.Eventually(t, "the other kiosk's alerts stored", func() bool { return held("gate-2") == alerts })
	took := time.Since(alertsSent)
	t.Logf("the alerts were stored %s after they were sent, with %d of the flood's batches stored by then", took.Round(time.Millisecond), held(kiosk))
	if took > 5*time.Second {
		t.Errorf("the alerts took %s to be stored behind the flood, want well under 5s", took)
	}
	for i, tok := range toks {
		if !tok.WaitTimeout(testkit.Wait) || tok.Error() != nil {
			t.Fatalf("flood publish %d: %v", i, tok.Error())
		}
	}
	testkit.Eventually(t, "the whole flood handled", func() bool {
		return h.in.Stats().Refused[protocol.RefusedRateLimited]+uint64(held(kiosk)) == flood
	})
	st := h.in.Stats()
	if n := held(kiosk); n != DefaultBatchBurst {
		t.Errorf("%d of the flood stored, want its burst of %d (the hub's clock stands still)", n, DefaultBatchBurst)
	}
	if n := st.Refused[protocol.RefusedRateLimited]; n != flood-DefaultBatchBurst {
		t.Errorf("rate_limited = %d, want %d", n, flood-DefaultBatchBurst)
	}
	if st.Alerts != alerts {
		t.Errorf("Alerts = %d, want %d", st.Alerts, alerts)
	}
	if l.Dropped() != 0 {
		t.Errorf("the link dropped %d for a full queue: the flood should be cut before the queue", l.Dropped())
	}
	if n := strings.Count(log.String(), "reason=rate_limited"); n != 1 {
		t.Errorf("%d log lines for the flood, want 1 (a line a minute)", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(alarms) != 1 || alarms[0] != kiosk+" "+protocol.RefusedRateLimited {
		t.Errorf("alarms = %q, want one flood alarm for %s", alarms, kiosk)
	}
}
