package ingest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/records"
	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/protocol"
)

// alarm is one call of Ingest.Alarm.
type alarm struct{ site, kiosk, reason, detail string }

// admitByRegister is the hub's admission on a real register (kiosks.db):
// an enrolled kiosk at its own site is admitted.
func admitByRegister(reg *registry.Store, calls *int) func(ctx context.Context, site, kiosk string) error {
	return func(ctx context.Context, site, kiosk string) error {
		*calls++
		k, err := reg.Get(ctx, kiosk)
		switch {
		case err != nil:
			return err
		case k.State == registry.Retired:
			return registry.ErrRetired
		case k.Site != site:
			return registry.ErrTaken
		case k.State != registry.Enrolled:
			return registry.ErrUnknown
		}
		return nil
	}
}

// strictHarness is a harness whose ingest admits by a real register
// holding gate-1 at huamu-1, and records its alarms.
func strictHarness(t *testing.T) (*harness, *registry.Store, *[]alarm, *int) {
	t.Helper()
	h := newHarness(t)
	reg, err := registry.OpenFile(t.Context(), filepath.Join(t.TempDir(), registry.FileName), h.clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Add(t.Context(), site, kiosk, pub); err != nil {
		t.Fatal(err)
	}
	calls := new(int)
	alarms := new([]alarm)
	h.in.Admit = admitByRegister(reg, calls)
	h.in.AdmitReasons = map[error]string{registry.ErrUnknown: protocol.RefusedNotEnrolled,
		registry.ErrRetired: protocol.RefusedRetired, registry.ErrTaken: protocol.RefusedWrongSite}
	h.in.Alarm = func(site, kiosk, reason, detail string) {
		*alarms = append(*alarms, alarm{site, kiosk, reason, detail})
	}
	return h, reg, alarms, calls
}

func statusOf(t *testing.T, s, k string) []byte {
	t.Helper()
	b, err := protocol.EncodeStatus(protocol.Status{Site: s, Kiosk: k, Online: true, Time: hubTime})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Only enrolled kiosks, each at its own site: whatever a kiosk not
// admitted sends (batch, alert, status) is refused whole, stores nothing,
// is not acknowledged, and is counted by reason; each is a security event
// that raises the alarm, once per kiosk and reason.
func TestRefusedIdentitiesStoreNothing(t *testing.T) {
	h, _, alarms, _ := strictHarness(t)
	if err := h.in.Handle(t.Context(), protocol.EntriesTopic(site, kiosk), wire(t, site, kiosk, 1)); err != nil {
		t.Fatalf("a batch from the enrolled kiosk: %v", err)
	}
	before := h.snapshot(t)
	h.acks = nil
	for _, tc := range []struct {
		name, topic string
		payload     []byte
		reason      string
	}{
		{"batch from a kiosk not enrolled", protocol.EntriesTopic(site, "gate-9"), wire(t, site, "gate-9", 1), protocol.RefusedNotEnrolled},
		{"alert from a kiosk not enrolled", protocol.AlertsTopic(site, "gate-9"), wire(t, site, "gate-9", 2), protocol.RefusedNotEnrolled},
		{"status from a kiosk not enrolled", protocol.StatusTopic(site, "gate-9"), statusOf(t, site, "gate-9"), protocol.RefusedNotEnrolled},
		{"batch from the kiosk at another site", protocol.EntriesTopic("other-site", kiosk), wire(t, "other-site", kiosk, 2), protocol.RefusedWrongSite},
		{"status from the kiosk at another site", protocol.StatusTopic("other-site", kiosk), statusOf(t, "other-site", kiosk), protocol.RefusedWrongSite},
		{"batch naming another kiosk on the kiosk's topic", protocol.EntriesTopic(site, kiosk), wire(t, site, "gate-2", 2), protocol.RefusedIdentity},
		{"status naming another kiosk on the kiosk's topic", protocol.StatusTopic(site, kiosk), statusOf(t, site, "gate-2"), protocol.RefusedIdentity},
	} {
		err := h.in.Handle(t.Context(), tc.topic, tc.payload)
		if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: Handle = %v, want ErrRejected for %s", tc.name, err, tc.reason)
		}
	}
	if after := h.snapshot(t); after != before {
		t.Errorf("refused messages changed the store:\n%s\nwas\n%s", after, before)
	}
	if len(h.acks) != 0 {
		t.Errorf("refused messages acknowledged: %+v", h.acks)
	}
	st := h.in.Stats()
	if want := refusedCounts(protocol.RefusedNotEnrolled, 3, protocol.RefusedWrongSite, 2, protocol.RefusedIdentity, 2); !equalCounts(st.Refused, want) {
		t.Errorf("Refused = %v, want %v", st.Refused, want)
	}
	want := []alarm{
		{site, "gate-9", protocol.RefusedNotEnrolled, ""},
		{"other-site", kiosk, protocol.RefusedWrongSite, ""},
		{site, kiosk, protocol.RefusedIdentity, "batch from huamu-1/gate-2 on the topic of huamu-1/gate-1"},
	}
	if len(*alarms) != len(want) {
		t.Fatalf("alarms = %+v, want one per kiosk and reason: %+v", *alarms, want)
	}
	for i, a := range *alarms {
		if a.site != want[i].site || a.kiosk != want[i].kiosk || a.reason != want[i].reason || !strings.Contains(a.detail, want[i].detail) {
			t.Errorf("alarm %d = %+v, want %+v", i, a, want[i])
		}
	}
	if n := strings.Count(h.log.String(), "reason=not_enrolled"); n != 1 {
		t.Errorf("the log has %d lines for gate-9 not enrolled, want 1 within the minute:\n%s", n, h.log.String())
	}
	h.clock.Advance(time.Minute)
	h.in.Handle(t.Context(), protocol.EntriesTopic(site, "gate-9"), wire(t, site, "gate-9", 1))
	if !strings.Contains(h.log.String(), "suppressed=2") {
		t.Errorf("the next minute's line does not count the 2 held back:\n%s", h.log.String())
	}
}

// A retired kiosk is refused within AdmitFor of its retirement; the
// register is asked once per kiosk per AdmitFor however many messages
// arrive.
func TestRetireTakesEffectWithinSeconds(t *testing.T) {
	h, reg, alarms, calls := strictHarness(t)
	topic := protocol.EntriesTopic(site, kiosk)
	for seq := uint64(1); seq <= 50; seq++ {
		if err := h.in.Handle(t.Context(), topic, wire(t, site, kiosk, seq)); err != nil {
			t.Fatalf("batch %d: %v", seq, err)
		}
	}
	if *calls != 1 {
		t.Errorf("the register was asked %d times for 50 batches within %s, want once", *calls, DefaultAdmitFor)
	}
	if err := reg.Retire(t.Context(), kiosk); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(DefaultAdmitFor)
	before := h.snapshot(t)
	err := h.in.Handle(t.Context(), topic, wire(t, site, kiosk, 51))
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), protocol.RefusedRetired) {
		t.Fatalf("a batch %s after retiring: %v, want refused as retired", DefaultAdmitFor, err)
	}
	if h.snapshot(t) != before {
		t.Error("the retired kiosk's batch changed the store")
	}
	if len(*alarms) != 1 || (*alarms)[0].reason != protocol.RefusedRetired {
		t.Errorf("alarms = %+v, want one for the retired kiosk", *alarms)
	}
	if held, err := h.store.Entries(t.Context(), records.Query{Kiosk: kiosk}); err != nil || len(held) != 50 {
		t.Errorf("entries held after retiring = %d, %v; what the kiosk sent before stays", len(held), err)
	}
}

// When the register cannot answer, the message is dropped unacknowledged
// (the kiosk sends it again), counted apart, and the failure is not kept.
func TestAdmitFailureDropsAndAsksAgain(t *testing.T) {
	h := newHarness(t)
	fail := true
	h.in.Admit = func(context.Context, string, string) error {
		if fail {
			return errors.New("database is locked")
		}
		return nil
	}
	topic := protocol.EntriesTopic(site, kiosk)
	err := h.in.Handle(t.Context(), topic, wire(t, site, kiosk, 1))
	if err == nil || errors.Is(err, ErrRejected) {
		t.Fatalf("Handle with the register failing = %v, want a failure that is not a refusal", err)
	}
	if st := h.in.Stats(); st.AdmitErrors != 1 || st.Rejected != 0 || len(h.acks) != 0 {
		t.Errorf("AdmitErrors %d, Rejected %d, acks %d; want 1, 0, 0", st.AdmitErrors, st.Rejected, len(h.acks))
	}
	fail = false
	if err := h.in.Handle(t.Context(), topic, wire(t, site, kiosk, 1)); err != nil || len(h.acks) != 1 {
		t.Errorf("the kiosk's resend once the register answers: %v, %d acks; want stored and acked", err, len(h.acks))
	}
}

// A sequence beyond the window and a message over the size limit are
// refused under their own reasons; the first is a security event.
func TestSeqWindowAndTooLarge(t *testing.T) {
	h, _, alarms, _ := strictHarness(t)
	h.store.SeqWindow = 10
	topic := protocol.EntriesTopic(site, kiosk)
	if err := h.in.Handle(t.Context(), topic, wire(t, site, kiosk, 100)); !errors.Is(err, ErrRejected) {
		t.Fatalf("seq 100 with a window of 10: %v, want refused", err)
	}
	big := bytes.Repeat([]byte(" "), protocol.MaxMessageBytes+1)
	if err := h.in.Handle(t.Context(), topic, big); !errors.Is(err, ErrRejected) {
		t.Fatalf("a message over the limit: %v, want refused", err)
	}
	if want := refusedCounts(protocol.RefusedSeqWindow, 1, protocol.RefusedTooLarge, 1); !equalCounts(h.in.Stats().Refused, want) {
		t.Errorf("Refused = %v, want %v", h.in.Stats().Refused, want)
	}
	if len(*alarms) != 1 || (*alarms)[0].reason != protocol.RefusedSeqWindow {
		t.Errorf("alarms = %+v, want one for the sequence window", *alarms)
	}
	if len(h.acks) != 0 {
		t.Errorf("acks = %+v, want none", h.acks)
	}
}

func equalCounts(a, b map[string]uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Entries from simulated devices are taken only from a test site: from any
// other site the batch is refused whole, stores nothing, is not acked,
// and is counted; it is not a security event (a kiosk left in demo mode).
func TestSimulatedEntriesOnlyFromTestSites(t *testing.T) {
	h, reg, alarms, _ := strictHarness(t)
	h.in.TestSite = reg.IsTestSite
	simulated := func(seq uint64) []byte {
		e := entry(kiosk, seq)
		e.Simulated = true
		data, err := protocol.EncodeBatch(protocol.Batch{Kiosk: kiosk, Site: site, Sent: t0.Add(time.Hour), Entries: []protocol.Entry{e}})
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if err := h.in.Handle(t.Context(), protocol.EntriesTopic(site, kiosk), wire(t, site, kiosk, 1)); err != nil {
		t.Fatalf("a real entry: %v", err)
	}
	before := h.snapshot(t)
	h.acks = nil
	err := h.in.Handle(t.Context(), protocol.EntriesTopic(site, kiosk), simulated(2))
	if !errors.Is(err, ErrRejected) || !strings.Contains(err.Error(), "test site") {
		t.Fatalf("a simulated entry from a real site: %v", err)
	}
	if h.snapshot(t) != before || len(h.acks) != 0 {
		t.Fatal("the refused simulated entry changed the store or was acked")
	}
	if st := h.in.Stats(); st.Refused[protocol.RefusedSimulated] != 1 {
		t.Errorf("Refused = %v, want one %s", st.Refused, protocol.RefusedSimulated)
	}
	if len(*alarms) != 0 {
		t.Errorf("a simulated entry raised the alarm: %+v", *alarms)
	}
	if err := reg.SetTestSite(t.Context(), site, true); err != nil {
		t.Fatal(err)
	}
	if err := h.in.Handle(t.Context(), protocol.EntriesTopic(site, kiosk), simulated(2)); err != nil {
		t.Fatalf("a simulated entry from a test site: %v", err)
	}
}
