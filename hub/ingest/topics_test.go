package ingest

import (
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/protocol"
)

func TestAlertsTopicStoredAndAckedLikeEntries(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	if err := h.in.Handle(ctx, protocol.EntriesTopic(site, kiosk), wire(t, site, kiosk, 1, 2)); err != nil {
		t.Fatal(err)
	}
	// An alert ahead of the backlog: stored at once, ack stays at 2.
	if err := h.in.Handle(ctx, protocol.AlertsTopic(site, kiosk), wire(t, site, kiosk, 9)); err != nil {
		t.Fatal(err)
	}
	if last := h.acks[len(h.acks)-1]; last.ack.Contiguous != 2 {
		t.Errorf("ack after the alert = %d, want 2", last.ack.Contiguous)
	}
	gaps, _ := h.store.Gaps(ctx, kiosk)
	if len(gaps) != 1 || gaps[0].From != 3 || gaps[0].To != 8 {
		t.Errorf("gaps = %v, want 3-8 until the backlog arrives", gaps)
	}
	// The backlog arrives, the alert with it: a duplicate, and the ack passes it.
	if err := h.in.Handle(ctx, protocol.EntriesTopic(site, kiosk), wire(t, site, kiosk, 3, 4, 5, 6, 7, 8, 9, 10)); err != nil {
		t.Fatal(err)
	}
	if last := h.acks[len(h.acks)-1]; last.ack.Contiguous != 10 {
		t.Errorf("ack after the backlog = %d, want 10", last.ack.Contiguous)
	}
	if st := h.in.Stats(); st.Alerts != 1 || st.Duplicates != 1 || st.Skewed != 3 {
		t.Errorf("Stats = %+v, want 1 alert, 1 duplicate, 3 skewed batches (fixture clocks are an hour off)", st)
	}
}

func TestCompressedBatchAccepted(t *testing.T) {
	h := newHarness(t)
	b := protocol.Batch{Kiosk: kiosk, Site: site, Sent: hubTime}
	for seq := uint64(1); seq <= 50; seq++ {
		b.Entries = append(b.Entries, entry(kiosk, seq))
	}
	payload, err := protocol.EncodeBatchPayload(b, 100)
	if err != nil || !strings.Contains(string(payload[:40]), "gzip") {
		t.Fatalf("EncodeBatchPayload = %.40s, %v; want a gzip payload", payload, err)
	}
	if err := h.in.Handle(t.Context(), protocol.EntriesTopic(site, kiosk), payload); err != nil {
		t.Fatal(err)
	}
	if last := h.acks[len(h.acks)-1]; last.ack.Contiguous != 50 {
		t.Errorf("ack = %d, want 50", last.ack.Contiguous)
	}
}

func TestStatusStoredAndChecked(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	topic := protocol.StatusTopic(site, kiosk)
	on, _ := protocol.EncodeStatus(protocol.Status{Kiosk: kiosk, Site: site, Online: true, Time: hubTime.Add(-time.Second), Unsynced: 4})
	if err := h.in.Handle(ctx, topic, on); err != nil {
		t.Fatal(err)
	}
	ks, _ := h.store.Kiosks(ctx)
	if len(ks) != 1 || !ks[0].Online || ks[0].ReportedUnsynced != 4 {
		t.Fatalf("Kiosks after online status = %+v", ks)
	}
	forged, _ := protocol.EncodeStatus(protocol.Status{Kiosk: "gate-2", Site: site})
	if err := h.in.Handle(ctx, topic, forged); err == nil {
		t.Error("status of another kiosk on this kiosk's topic accepted")
	}
	if err := h.in.Handle(ctx, topic, []byte("{")); err == nil {
		t.Error("garbage status accepted")
	}
	if ks2, _ := h.store.Kiosks(ctx); !ks2[0].Online {
		t.Error("refused status messages changed the fleet state")
	}
}
