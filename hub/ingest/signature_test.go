package ingest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatepost/gatepost/hub/registry"
	"github.com/gatepost/gatepost/protocol"
)

// signedHarness is an Ingest that checks signatures against the keys of a
// real register, where the test kiosk is enrolled with priv's key.
func signedHarness(t *testing.T) (*harness, ed25519.PrivateKey, *[]alarm) {
	t.Helper()
	h := newHarness(t)
	reg, err := registry.OpenFile(t.Context(), filepath.Join(t.TempDir(), registry.FileName), h.clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	pub, priv, _ := ed25519.GenerateKey(nil)
	if _, err := reg.Add(t.Context(), site, kiosk, pub); err != nil {
		t.Fatal(err)
	}
	alarms := new([]alarm)
	h.in.Admit = reg.Admit
	h.in.KioskKey = func(ctx context.Context, _, k string) (ed25519.PublicKey, error) {
		got, err := reg.Get(ctx, k)
		return got.PublicKey, err
	}
	h.in.Alarm = func(site, kiosk, reason, detail string) {
		*alarms = append(*alarms, alarm{site, kiosk, reason, detail})
	}
	return h, priv, alarms
}

// signedWire is a batch of entries 1..n, chained, signed with priv after
// edit (if any) is applied to a copy of it.
func signedWire(tb testing.TB, n uint64, priv ed25519.PrivateKey, edit func(*protocol.Batch)) []byte {
	tb.Helper()
	b, err := protocol.DecodeBatch(chainedWire(tb, n, 1, nil))
	if err != nil {
		tb.Fatal(err)
	}
	if priv != nil {
		if err := protocol.SignBatch(priv, &b); err != nil {
			tb.Fatal(err)
		}
	}
	if edit != nil {
		edit(&b)
	}
	data, err := protocol.EncodeBatch(b)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// A batch signed with another key, an unsigned one, and one whose entry
// was changed after signing are each refused whole under reason
// signature: nothing stored, no ack, the alarm raised once, and a log
// line naming the kiosk and the key's fingerprint. The kiosk's own
// signed batch is then taken.
func TestSignatureRefused(t *testing.T) {
	h, priv, alarms := signedHarness(t)
	_, other, _ := ed25519.GenerateKey(nil)
	topic := protocol.EntriesTopic(site, kiosk)
	before := h.snapshot(t)
	cases := map[string][]byte{
		"signed by another key": signedWire(t, 3, other, nil),
		"unsigned":              signedWire(t, 3, nil, nil),
		"an entry changed after signing": signedWire(t, 3, priv, func(b *protocol.Batch) {
			b.Entries[1].Unit = "9-901"
		}),
	}
	for name, payload := range cases {
		if err := h.in.Handle(t.Context(), topic, payload); !errors.Is(err, ErrRejected) ||
			!strings.Contains(err.Error(), protocol.RefusedSignature) {
			t.Errorf("%s: Handle = %v, want refused for the signature", name, err)
		}
	}
	if got := h.snapshot(t); got != before {
		t.Errorf("refused batches stored something:\n%s", got)
	}
	if want := refusedCounts(protocol.RefusedSignature, 3); !equalCounts(h.in.Stats().Refused, want) {
		t.Errorf("Refused = %v, want %v", h.in.Stats().Refused, want)
	}
	if len(h.acks) != 0 {
		t.Errorf("acks = %+v, want none", h.acks)
	}
	if len(*alarms) != 1 || (*alarms)[0].reason != protocol.RefusedSignature || (*alarms)[0].kiosk != kiosk {
		t.Errorf("alarms = %+v, want one for the signature", *alarms)
	}
	fp := protocol.Fingerprint(priv.Public().(ed25519.PublicKey))
	if log := h.log.String(); !strings.Contains(log, "reason=signature") || !strings.Contains(log, "kiosk="+kiosk) ||
		!strings.Contains(log, fp) {
		t.Errorf("log does not name the reason, kiosk and key %s:\n%s", fp, log)
	}
	if err := h.in.Handle(t.Context(), topic, signedWire(t, 3, priv, nil)); err != nil {
		t.Fatalf("the kiosk's own signed batch: %v", err)
	}
	if len(h.acks) != 1 || h.acks[0].ack.Contiguous != 3 {
		t.Errorf("acks = %+v, want 1..3", h.acks)
	}
}

// A kiosk without an enrolled key (admitted during a site's transition)
// has its batches taken unsigned; a key that cannot be read drops the
// batch unacknowledged, for the kiosk to send again.
func TestSignatureWithoutKey(t *testing.T) {
	h := newHarness(t)
	var keyErr error
	h.in.KioskKey = func(context.Context, string, string) (ed25519.PublicKey, error) { return nil, keyErr }
	topic := protocol.EntriesTopic(site, kiosk)
	if err := h.in.Handle(t.Context(), topic, signedWire(t, 1, nil, nil)); err != nil {
		t.Fatalf("unsigned batch of a kiosk without a key: %v", err)
	}
	h.clock.Advance(time.Hour) // past the key kept
	keyErr = errors.New("register unreadable")
	err := h.in.Handle(t.Context(), topic, signedWire(t, 2, nil, nil))
	if !errors.Is(err, errAdmitFailed) || errors.Is(err, ErrRejected) {
		t.Fatalf("Handle with the register unreadable = %v, want dropped unrefused", err)
	}
}
